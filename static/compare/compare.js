// The comparison page's two live bits: the token's expiry countdown, and what page scripts can
// read of the cookies (the HttpOnly session cookie never shows up). Loaded as a file: the
// Content-Security-Policy allows no inline script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const node of document.querySelectorAll("[data-countdown]")) {
    let remaining = Number(node.dataset.countdown);
    const tick = () => {
      node.textContent = remaining > 0 ? `${remaining} s` : "expired: reload for a new token";
      remaining -= 1;
    };
    tick();
    setInterval(tick, 1000);
  }
  for (const node of document.querySelectorAll("[data-script-cookies]")) {
    const names = document.cookie
      .split(";")
      .map((pair) => pair.split("=")[0].trim())
      .filter(Boolean);
    node.textContent = names.length ? names.join(", ") : "(no cookie is readable)";
  }
});
