// The tokens page's copy buttons: each copies one new token to the clipboard and says so in its
// status line. Loaded as a file (the Content-Security-Policy allows no inline script); without
// JavaScript the buttons stay hidden and the tokens can still be selected and copied by hand.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.copyStatus);
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.value);
        status.textContent = "Copied.";
      } catch {
        // No clipboard access (permission refused, or a page not served over HTTPS): the text
        // is selected instead, for Ctrl+C.
        source.select();
        status.textContent = "Could not copy: the token is selected, press Ctrl+C (⌘C).";
      }
    });
  }
});
