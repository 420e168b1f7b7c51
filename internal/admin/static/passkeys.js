// Passkeys: a form marked data-passkey="create" or "get" asks the browser
// for a new passkey or for a signature with one, then submits itself with
// the answer in its hidden credential field (the credential's toJSON(),
// binary fields as base64url). The options come from the form's
// data-options (JSON) or from a POST to its data-options-url, which also
// names the ceremony. Without WebAuthn in the browser the forms stay hidden.
"use strict";
(function () {
  var PKC = window.PublicKeyCredential;
  if (!PKC || !PKC.parseCreationOptionsFromJSON || !PKC.parseRequestOptionsFromJSON) return;
  document.querySelectorAll("form[data-passkey]").forEach(function (f) { f.hidden = false; });

  function say(form, msg) {
    var s = form.querySelector("[data-passkey-status]");
    if (s) s.textContent = msg;
  }

  async function begin(form) {
    if (form.dataset.options) return { options: JSON.parse(form.dataset.options) };
    var res = await fetch(form.dataset.optionsUrl, { method: "POST", credentials: "same-origin", headers: { Accept: "application/json" } });
    var body = await res.json();
    if (!res.ok) throw new Error(body.error || "The passkey could not be started.");
    return body;
  }

  document.addEventListener("submit", async function (e) {
    var form = e.target.closest("form[data-passkey]");
    if (!form) return;
    e.preventDefault();
    if (!form.reportValidity()) return;
    say(form, "Waiting for your passkey…");
    try {
      var c = await begin(form);
      var cred = form.dataset.passkey === "create"
        ? await navigator.credentials.create({ publicKey: PKC.parseCreationOptionsFromJSON(c.options) })
        : await navigator.credentials.get({ publicKey: PKC.parseRequestOptionsFromJSON(c.options) });
      if (c.ceremony) form.elements.ceremony.value = c.ceremony;
      form.elements.credential.value = JSON.stringify(cred.toJSON());
      form.submit();
    } catch (err) {
      say(form, err && err.name === "NotAllowedError" ? "No passkey was used." : (err.message || String(err)));
    }
  });
})();
