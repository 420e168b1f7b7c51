// Copy a new API token's secret to the clipboard.
"use strict";
document.addEventListener("click", function (e) {
  var btn = e.target.closest("[data-copy]");
  if (!btn) return;
  var input = document.getElementById(btn.getAttribute("data-copy"));
  var status = document.getElementById("copy-status");
  function done(ok) { if (status) status.textContent = ok ? "Copied." : "Select the secret and copy it."; }
  input.select();
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () { done(document.execCommand("copy")); });
  } else {
    done(document.execCommand("copy"));
  }
});
