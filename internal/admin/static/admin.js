// Quire admin: small progressive enhancements. Every screen works without
// this file; it adds confirmations and slug suggestions.
"use strict";

document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) {
    e.preventDefault();
  }
});

// Suggest a slug from the title until the slug is edited by hand.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-slug-source]").forEach(function (title) {
    var slug = document.getElementById(title.getAttribute("data-slug-source"));
    if (!slug) return;
    var touched = slug.value !== "";
    slug.addEventListener("input", function () { touched = true; });
    title.addEventListener("input", function () {
      if (touched) return;
      slug.value = title.value.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
        .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 200);
    });
  });
});
