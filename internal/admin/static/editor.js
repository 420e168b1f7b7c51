// Quire page editor: block forms, adding, moving (drag or buttons) and
// deleting blocks, saving with the version the editor started from,
// conflicts, unsaved-change protection and a local backup, the image picker
// and uploads. The server renders every block; this file only rearranges
// them, reads them back into the JSON the API takes, and talks to
// /admin/pages/{id}/save. Image blocks' picker and upload are in
// editor-images.js.
"use strict";

(function () {
  var form = document.getElementById("editor");
  if (!form) return;
  var pageID = form.getAttribute("data-page");
  var canEdit = form.hasAttribute("data-can-edit");
  var version = parseInt(form.getAttribute("data-version"), 10);
  var list = document.getElementById("blocks");
  var status = document.getElementById("save-status");
  var backupKey = "quire:page:" + pageID;
  var dirty = false;
  var uid = 0;

  // Rich text: Trix, configured to write what the server's sanitiser keeps
  // (paragraphs, h2, s), with file attachments turned off.
  function setupTrix() {
    if (!window.Trix) return;
    var blocks = Trix.config.blockAttributes;
    blocks["default"].tagName = "p";
    blocks["default"].breakOnReturn = true;
    blocks.heading1.tagName = "h2";
    Trix.config.textAttributes.strike.tagName = "s";
  }
  document.addEventListener("trix-file-accept", function (e) { e.preventDefault(); });

  function mountRichText(root) {
    root.querySelectorAll("input[data-rt]").forEach(function (input) {
      if (input.id) return;
      uid++;
      input.id = "rt-input-" + uid;
      var label = input.parentNode.querySelector("[data-rt-label]");
      if (label) label.id = "rt-label-" + uid;
      var ed = document.createElement("trix-editor");
      ed.setAttribute("input", input.id);
      ed.setAttribute("aria-labelledby", "rt-label-" + uid);
      ed.className = "rich";
      if (!canEdit) ed.setAttribute("contenteditable", "false");
      input.parentNode.insertBefore(ed, input.nextSibling);
    });
  }

  // --- reading the form into the API's shape ---

  function blockData(li) {
    var content = {};
    li.querySelectorAll("[data-field]").forEach(function (el) {
      if (el.closest(".block") !== li) return;
      var name = el.getAttribute("data-field");
      var kind = el.getAttribute("data-kind");
      if (kind === "items") {
        content[name] = Array.prototype.map.call(el.querySelectorAll("input[data-item]"), function (i) { return i.value; })
          .filter(function (v) { return v.trim() !== ""; });
        return;
      }
      var v = el.value;
      if (kind === "int") { content[name] = parseInt(v, 10); return; }
      if (v !== "") content[name] = v;
    });
    var out = { type: li.getAttribute("data-type"), content: content };
    var id = li.getAttribute("data-id");
    if (id) out.id = id;
    return out;
  }

  function state() {
    return {
      version: version,
      title: document.getElementById("title").value,
      slug: document.getElementById("slug").value,
      blocks: Array.prototype.map.call(list.children, blockData)
    };
  }

  // --- building blocks ---

  function newBlock(type) {
    var tpl = document.getElementById("tpl-" + type);
    var li = tpl.content.firstElementChild.cloneNode(true);
    return li;
  }

  function fill(li, content) {
    li.querySelectorAll("[data-field]").forEach(function (el) {
      if (el.closest(".block") !== li) return;
      var name = el.getAttribute("data-field");
      var v = content[name];
      if (el.getAttribute("data-kind") === "items") {
        var items = Array.isArray(v) && v.length ? v : [""];
        var first = el.querySelector("li");
        el.innerHTML = "";
        items.forEach(function (text) {
          var item = first.cloneNode(true);
          item.querySelector("input").value = text;
          el.appendChild(item);
        });
        return;
      }
      if (v === undefined || v === null) return;
      el.value = String(v);
    });
  }

  function renumber() {
    Array.prototype.forEach.call(list.children, function (li, i) {
      li.setAttribute("aria-label", "Block " + (i + 1) + " of " + list.children.length + ": " +
        li.querySelector(".block-type").textContent);
    });
  }

  function announce(msg) { if (status) status.textContent = msg; }

  function changed() {
    if (!canEdit) return;
    dirty = true;
    document.body.classList.add("dirty");
    var hint = document.getElementById("dirty-hint");
    if (hint) hint.hidden = false;
    document.querySelectorAll("[data-needs-saved]").forEach(function (b) { b.disabled = true; });
    clearTimeout(changed.timer);
    changed.timer = setTimeout(backup, 400);
  }

  function clean() {
    dirty = false;
    document.body.classList.remove("dirty");
    try { localStorage.removeItem(backupKey); } catch (e) { /* storage off */ }
  }

  function backup() {
    if (!dirty) return;
    try {
      localStorage.setItem(backupKey, JSON.stringify({ at: new Date().toISOString(), state: state() }));
    } catch (e) { /* storage full or off: the warning on leaving still protects */ }
  }

  // --- actions on blocks ---

  form.addEventListener("click", function (e) {
    var btn = e.target.closest("button[data-act]");
    if (!btn || !canEdit) return;
    var act = btn.getAttribute("data-act");
    var li = btn.closest(".block");
    if (act === "add") {
      var type = btn.parentNode.querySelector("[data-add-type]").value;
      var nb = newBlock(type);
      if (li) li.after(nb); else list.prepend(nb);
      mountRichText(nb);
      renumber();
      var first = nb.querySelector("input:not([type=hidden]), textarea, select, trix-editor, button[data-act=pick]");
      if (first) first.focus();
      announce("Added a " + type.replace("_", " ") + " block at position " + (indexOf(nb) + 1) + ".");
      changed();
    } else if (act === "up" || act === "down") {
      var sib = act === "up" ? li.previousElementSibling : li.nextElementSibling;
      if (!sib) { announce("This block is already " + (act === "up" ? "first." : "last.")); return; }
      if (act === "up") sib.before(li); else sib.after(li);
      btn.focus();
      renumber();
      announce("Moved the block to position " + (indexOf(li) + 1) + " of " + list.children.length + ".");
      changed();
    } else if (act === "delete") {
      var next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      renumber();
      var focus = next ? next.querySelector("button[data-act=delete]") : document.getElementById("title");
      if (focus) focus.focus();
      announce("Deleted the block.");
      changed();
    } else if (act === "add-item") {
      var ol = li.querySelector(".item-list");
      var item = ol.querySelector("li").cloneNode(true);
      item.querySelector("input").value = "";
      ol.appendChild(item);
      item.querySelector("input").focus();
      changed();
    } else if (act === "remove-item") {
      var items = btn.closest(".item-list");
      if (items.children.length > 1) btn.closest("li").remove(); else items.querySelector("input").value = "";
      changed();
    } else if (act === "pick") {
      li.dispatchEvent(new CustomEvent("quire:pick", { bubbles: true }));
    }
  });

  function indexOf(li) { return Array.prototype.indexOf.call(list.children, li); }

  form.addEventListener("input", changed);
  form.addEventListener("change", function (e) {
    if (e.target.matches("input[type=file][data-act=upload]")) {
      e.target.dispatchEvent(new CustomEvent("quire:upload", { bubbles: true }));
      return;
    }
    changed();
  });
  document.addEventListener("trix-change", changed);

  // Drag and drop by the handle, with pointer events (mouse, pen, touch).
  var dragging = null;
  list.addEventListener("pointerdown", function (e) {
    var handle = e.target.closest(".drag");
    if (!handle || !canEdit) return;
    dragging = handle.closest(".block");
    dragging.classList.add("dragging");
    handle.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  list.addEventListener("pointermove", function (e) {
    if (!dragging) return;
    var over = null;
    Array.prototype.forEach.call(list.children, function (li) {
      if (li === dragging) return;
      var r = li.getBoundingClientRect();
      if (e.clientY >= r.top && e.clientY <= r.bottom) over = li;
    });
    if (!over) return;
    var r = over.getBoundingClientRect();
    if (e.clientY < r.top + r.height / 2) over.before(dragging); else over.after(dragging);
  });
  function endDrag() {
    if (!dragging) return;
    dragging.classList.remove("dragging");
    renumber();
    announce("Moved the block to position " + (indexOf(dragging) + 1) + " of " + list.children.length + ".");
    dragging = null;
    changed();
  }
  list.addEventListener("pointerup", endDrag);
  list.addEventListener("pointercancel", endDrag);

  // --- saving ---

  function clearErrors() {
    form.querySelectorAll("[data-error-for]").forEach(function (p) { p.hidden = true; p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
  }

  // showError puts the service's message next to the field it named:
  // "title", "slug", "blocks[3].content.text", "blocks[3].content".
  function showError(field, message) {
    var scope = form, name = field;
    var m = /^blocks\[(\d+)\](?:\.content(?:\.([a-z_]+))?)?/.exec(field);
    if (m) {
      scope = list.children[parseInt(m[1], 10)] || form;
      name = m[2] || "content";
    }
    var p = null;
    scope.querySelectorAll("[data-error-for='" + name + "']").forEach(function (x) {
      if (!p && (scope === form || x.closest(".block") === scope)) p = x;
    });
    if (!p) p = form.querySelector("[data-error-for='blocks']");
    uid++;
    p.id = "err-" + uid;
    p.textContent = (m ? "" : field.charAt(0).toUpperCase() + field.slice(1) + " ") + message;
    if (m && !m[2]) p.textContent = "This block " + message;
    if (m && m[2]) p.textContent = m[2].replace("_", " ") + " " + message;
    p.hidden = false;
    var input = scope === form ? form.querySelector("[data-field='" + name + "']") : null;
    if (!input && scope !== form) {
      scope.querySelectorAll("[data-field='" + name + "']").forEach(function (x) { if (!input && x.closest(".block") === scope) input = x; });
    }
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", p.id);
    }
    return input || p;
  }

  function save() {
    clearErrors();
    announce("Saving…");
    var sent = state();
    return fetch("/admin/pages/" + pageID + "/save", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "If-Match": '"' + version + '"' },
      body: JSON.stringify(sent),
      credentials: "same-origin"
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) { return { res: res, body: body }; });
    }).then(function (r) {
      if (r.res.ok) {
        version = r.body.page.version;
        form.setAttribute("data-version", version);
        document.querySelectorAll("input[name=version]").forEach(function (i) { i.value = version; });
        // New blocks now have ids: keep them so the next save keeps them too.
        r.body.page.blocks.forEach(function (b, i) { if (list.children[i]) list.children[i].setAttribute("data-id", b.id); });
        clean();
        document.querySelectorAll("[data-needs-saved]").forEach(function (b) { b.disabled = false; });
        var hint = document.getElementById("dirty-hint");
        if (hint) hint.hidden = true;
        var differs = r.body.page.published_revision_id && r.body.page.has_unpublished_changes;
        document.body.classList.toggle("differs-published", !!differs);
        announce("Saved (version " + version + ").");
        return;
      }
      if (r.res.status === 412) { conflict(r.body.page, sent); announce("Not saved: someone else saved first."); return; }
      if (r.res.status === 401) { announce("Your session has ended. Sign in again in another tab, then save: your changes are kept here."); return; }
      var first = null;
      (r.body.errors || []).forEach(function (fe) { var el = showError(fe.field, fe.message); if (!first) first = el; });
      announce("Not saved: " + (r.body.title || ("error " + r.res.status)));
      if (first && first.focus) first.focus();
    }).catch(function () {
      announce("Not saved: the server could not be reached. Your changes are kept in this browser.");
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (canEdit) save();
  });
  document.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "s" && canEdit) { e.preventDefault(); save(); }
  });

  // --- conflicts ---

  function summary(p) {
    var div = document.createElement("div");
    var h = document.createElement("p");
    h.textContent = "Title: " + p.title + " · slug: " + p.slug;
    div.appendChild(h);
    var ol = document.createElement("ol");
    p.blocks.forEach(function (b) {
      var li = document.createElement("li");
      var c = b.content || {};
      li.textContent = b.type + ": " + (c.text || c.html || c.code || c.url || c.alt || (c.items || []).join(", ") || "");
      ol.appendChild(li);
    });
    div.appendChild(ol);
    return div;
  }

  function conflict(theirs, mine) {
    backup();
    var box = document.getElementById("conflict");
    box.hidden = false;
    box.focus();
    document.getElementById("conflict-reload").onclick = function () { backup(); window.onbeforeunload = null; dirty = false; location.reload(); };
    document.getElementById("conflict-both").onclick = function () {
      var view = document.getElementById("conflict-both-view");
      view.querySelector("[data-theirs]").replaceChildren(summary(theirs));
      view.querySelector("[data-mine]").replaceChildren(summary(mine));
      view.hidden = false;
    };
  }

  // --- leaving with unsaved changes, and the local backup ---

  window.addEventListener("beforeunload", function (e) {
    if (!dirty) return;
    backup();
    e.preventDefault();
    e.returnValue = "";
  });

  function offerRestore() {
    var saved;
    try { saved = JSON.parse(localStorage.getItem(backupKey) || "null"); } catch (e) { saved = null; }
    if (!saved || !saved.state || !canEdit) return;
    var now = state();
    if (JSON.stringify(now.blocks) === JSON.stringify(saved.state.blocks) && now.title === saved.state.title && now.slug === saved.state.slug) {
      localStorage.removeItem(backupKey);
      return;
    }
    var banner = document.getElementById("restore-banner");
    banner.querySelector("[data-backup-time]").textContent = new Date(saved.at).toLocaleString();
    banner.hidden = false;
    document.getElementById("restore-yes").onclick = function () {
      var s = saved.state;
      document.getElementById("title").value = s.title;
      document.getElementById("slug").value = s.slug;
      list.innerHTML = "";
      s.blocks.forEach(function (b) {
        var li = newBlock(b.type);
        if (b.id) li.setAttribute("data-id", b.id);
        fill(li, b.content || {});
        list.appendChild(li);
      });
      mountRichText(list);
      list.dispatchEvent(new CustomEvent("quire:restored", { bubbles: true }));
      renumber();
      banner.hidden = true;
      changed();
      announce("Restored your unsaved changes. Save to keep them.");
    };
    document.getElementById("restore-no").onclick = function () {
      localStorage.removeItem(backupKey);
      banner.hidden = true;
    };
  }

  // What editor-images.js needs of the editor.
  window.QuireEditor = { changed: changed };

  // --- start ---
  setupTrix();
  mountRichText(form);
  renumber();
  offerRestore();
})();
