"""`mode: batch` routes: events parked, gathered into Message Batches, answered at half price.

The protocol, and why a restart anywhere loses nothing and pays nothing twice:

1. The worker claims and routes a batch route's event like any other, then parks it: the
   route's context fetched (a provider rate limit defers the event, as in real time) and kept
   under the event's key, a ledger entry keyed by (route, received time, event id), then the
   event `processing -> batching` (`mode: batch`). A crash between them leaves the event
   `processing`; its message comes back, and parking again writes the same items.
2. The collector (one run at a time) gathers a route's parked entries, oldest first, once there
   are `max_size` of them or the oldest has waited half of `max_wait_seconds`. It writes an
   **intent** (the event ids) before it submits, then records the batch id on the intent,
   then on each event (a conditional write), then removes the parked entries. It first finishes
   whatever an earlier run left: an intent with a batch id is recorded again (idempotent); an
   intent without one is matched against the batches the API lists (created while its run
   could submit, with as many requests, claimed by no other intent) and adopted only if the
   batch's entries are exactly its events: a batch as large may be another route's, another
   application's on the same key, or an older one. Until every such batch has ended (the API
   shows no entries before), the intent waits and its events, still parked, go in no new
   batch (the route's fallback still takes those that would miss their deadline); with none
   its own, it is dropped, its events still parked for the next batch.
3. The poller (one run at a time) reads each recorded intent's batch; once it has ended it
   streams the results. A `succeeded` entry completes its event `batching -> completed` only
   if the event still names this batch; a completed event is skipped, so a re-poll after a crash
   (results stay downloadable for 29 days) repeats nothing. `errored`, `expired` and `canceled`
   entries are parked again alone, and so is an event of the intent the batch holds no entry
   for (nothing is lost to a batch that was not the intent's); an answer that fails
   validation goes to real time, where the worker asks again with its one repair. The intent
   is deleted once every entry is settled.
4. Fallback: when the Batches API is unavailable, or a parked event would miss its deadline,
   the route's `batch.fallback` decides: `realtime` sends it to the queue (`mode: realtime`, so
   the worker asks the model through the governor), `wait` keeps it parked.
"""
