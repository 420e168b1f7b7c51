// Quire media library: upload several files at once, chosen or dropped,
// each with its own progress bar. Without this script the form uploads
// one file the plain way.
"use strict";

(function () {
  var form = document.getElementById("upload-form");
  if (!form) return;
  var input = document.getElementById("files");
  var list = document.getElementById("upload-list");
  var zone = document.getElementById("dropzone");
  var pending = 0, failed = 0;

  function uploadOne(file) {
    var li = document.createElement("li");
    var name = document.createElement("span");
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + file.name);
    var msg = document.createElement("span");
    msg.className = "upload-msg";
    li.append(name, bar, msg);
    list.appendChild(li);
    pending++;
    var fd = new FormData();
    fd.append("file", file);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/admin/media/upload");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 200 || xhr.status === 201) {
        bar.value = 100;
        li.className = "done";
        msg.textContent = xhr.status === 200 ? "already in the library" : "uploaded";
      } else {
        failed++;
        li.className = "failed";
        msg.textContent = "failed: " + (body.title || xhr.status);
      }
      finish();
    };
    xhr.onerror = function () { failed++; li.className = "failed"; msg.textContent = "failed: no answer"; finish(); };
    xhr.send(fd);
  }

  function finish() {
    pending--;
    if (pending === 0 && failed === 0) {
      setTimeout(function () { location.href = "/admin/media?done=uploaded"; }, 600);
    }
  }

  function uploadAll(files) {
    failed = 0;
    Array.prototype.forEach.call(files, uploadOne);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (input.files.length) uploadAll(input.files);
  });
  input.addEventListener("change", function () { if (input.files.length) uploadAll(input.files); });
  ["dragenter", "dragover"].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    zone.addEventListener(t, function () { zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) uploadAll(e.dataTransfer.files);
  });
})();
