"""hookwise: turn webhooks into Claude-powered work on AWS serverless."""
