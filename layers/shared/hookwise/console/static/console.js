// hookwise console: live parts and confirmations. No framework, no build step.
"use strict";

// An element with data-live="URL" has its content replaced by the URL's HTML (rendered and
// escaped by the server) every few seconds; never while focus is inside it, so a keyboard
// user is not thrown out of what they are reading.
function refresh(element) {
  if (element.contains(document.activeElement) || document.hidden) return;
  fetch(element.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } })
    .then((answer) => (answer.ok ? answer.text() : null))
    .then((html) => {
      if (html === null || element.contains(document.activeElement)) return;
      element.innerHTML = html;
      const status = element.querySelector("#event-status");
      if (status && ["completed", "skipped", "failed"].includes(status.textContent.trim())) {
        delete element.dataset.live;
      }
    })
    .catch(() => {});
}

function live() {
  const seconds = 2;
  setInterval(() => {
    document.querySelectorAll("[data-live]").forEach(refresh);
  }, seconds * 1000);
}

// A form with data-confirm asks first; its button then shows the action is under way.
function confirmations() {
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (submitted) => {
      if (!window.confirm(form.dataset.confirm)) {
        submitted.preventDefault();
        return;
      }
      form.querySelectorAll("button").forEach((button) => {
        button.disabled = true;
        button.textContent += "…";
      });
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  live();
  confirmations();
});
