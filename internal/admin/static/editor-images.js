// Quire page editor, image blocks: choosing an image from the library
// (a dialog fed by /admin/media.json) and uploading one from the block,
// with a progress bar. The editor (editor.js) asks for these with the
// quire:pick and quire:upload events.
"use strict";

(function () {
  var form = document.getElementById("editor");
  if (!form) return;
  var list = document.getElementById("blocks");


  var pickerFor = null, pickerCursor = "";
  var picker = document.getElementById("picker");

  function setImage(li, item) {
    li.querySelector("[data-field=media_id]").value = item.id;
    var alt = li.querySelector("[data-field=alt]");
    if (alt && !alt.value && item.alt) alt.value = item.alt;
    var prev = li.querySelector("[data-preview]");
    var img = document.createElement("img");
    img.src = item.thumb;
    img.alt = "";
    prev.replaceChildren(img);
    window.QuireEditor.changed();
  }

  // After a restore from the backup, image blocks have a media id but no
  // preview; say so rather than guess a URL.
  function refreshPreviews() {
    list.querySelectorAll(".block[data-type=image]").forEach(function (li) {
      var id = li.querySelector("[data-field=media_id]").value;
      var prev = li.querySelector("[data-preview]");
      if (id && !prev.querySelector("img")) prev.textContent = "Image chosen; its preview shows after saving.";
    });
  }

  function loadPicker(reset) {
    var q = document.getElementById("picker-q").value;
    var url = "/admin/media.json?q=" + encodeURIComponent(q) + (reset ? "" : "&cursor=" + encodeURIComponent(pickerCursor));
    var grid = document.getElementById("picker-grid");
    if (reset) grid.innerHTML = "";
    fetch(url, { headers: { "Accept": "application/json" } }).then(function (r) { return r.json(); }).then(function (body) {
      (body.data || []).forEach(function (item) {
        var li = document.createElement("li");
        var b = document.createElement("button");
        b.type = "button";
        b.className = "pick";
        var img = document.createElement("img");
        img.src = item.thumb;
        img.alt = "";
        var span = document.createElement("span");
        span.textContent = item.title || item.filename;
        b.append(img, span);
        b.addEventListener("click", function () { setImage(pickerFor, item); picker.close(); pickerFor.querySelector("[data-act=pick]").focus(); });
        li.appendChild(b);
        grid.appendChild(li);
      });
      if (!grid.children.length) grid.innerHTML = "<li class=\"muted\">No images yet: upload one from the block.</li>";
      pickerCursor = body.next_cursor || "";
      document.getElementById("picker-more").hidden = !pickerCursor;
    });
  }

  function openPicker(li) {
    pickerFor = li;
    loadPicker(true);
    picker.showModal();
  }
  if (picker) {
    document.getElementById("picker-search").addEventListener("submit", function (e) { e.preventDefault(); loadPicker(true); });
    document.getElementById("picker-more").addEventListener("click", function () { loadPicker(false); });
    document.getElementById("picker-close").addEventListener("click", function () { picker.close(); });
  }

  function upload(input) {
    var li = input.closest(".block");
    var file = input.files[0];
    if (!file) return;
    var bar = li.querySelector("progress");
    var msg = li.querySelector(".upload-status");
    var fd = new FormData();
    fd.append("file", file);
    var alt = li.querySelector("[data-field=alt]").value;
    if (alt) fd.append("alt", alt);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/admin/media/upload");
    xhr.setRequestHeader("Accept", "application/json");
    bar.hidden = false;
    bar.value = 0;
    msg.textContent = "Uploading " + file.name + "…";
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 200 || xhr.status === 201) {
        bar.value = 100;
        msg.textContent = "Uploaded " + file.name + ".";
        setImage(li, body);
      } else {
        msg.textContent = "Upload failed: " + (body.title || xhr.status);
      }
      input.value = "";
    };
    xhr.onerror = function () { msg.textContent = "Upload failed: the server could not be reached."; };
    xhr.send(fd);
  }

  form.addEventListener("quire:pick", function (e) { openPicker(e.target.closest(".block")); });
  form.addEventListener("quire:upload", function (e) { upload(e.target); });
  form.addEventListener("quire:restored", refreshPreviews);
})();
