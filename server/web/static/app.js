// mailx web: the bridge pane, live updates and keyboard shortcuts.
// No framework and no innerHTML of data: text goes in with textContent.
(function () {
  "use strict";
  var body = document.body;
  var pane = document.getElementById("bridge-log");
  var toggle = document.getElementById("bridge-toggle");

  // The pane is on unless the user turned it off (remembered per browser).
  var pref = null;
  try { pref = localStorage.getItem("mailx-bridge"); } catch (e) {}
  if (pref === "on" || pref === "off") body.dataset.bridge = pref;
  function showToggle() {
    if (toggle) toggle.setAttribute("aria-expanded", body.dataset.bridge === "on" ? "true" : "false");
  }
  showToggle();
  function flip() {
    body.dataset.bridge = body.dataset.bridge === "on" ? "off" : "on";
    try { localStorage.setItem("mailx-bridge", body.dataset.bridge); } catch (e) {}
    showToggle();
    if (body.dataset.bridge === "on") refreshBridge();
  }
  if (toggle) toggle.addEventListener("click", flip);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  var busy = false, again = false;
  function refreshBridge() {
    if (!pane || !body.dataset.user) return;
    if (busy) { again = true; return; }
    busy = true;
    fetch("/bridge.json", { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (data) {
      busy = false;
      if (data) drawBridge(data.exchanges || []);
      if (again) { again = false; refreshBridge(); }
    }).catch(function () { busy = false; });
  }

  // Each exchange is a <details>: the newest requests and the live stream
  // open, older ones folded to their first line; what the user opens or
  // folds stays so across redraws.
  var chosen = {};
  function drawBridge(list) {
    var frag = document.createDocumentFragment();
    var shown = 0;
    for (var i = list.length - 1; i >= 0; i--) {
      var ex = list[i];
      var li = el("li", "ex");
      var det = el("details");
      var sum = el("summary", "req", ex.method + " " + ex.path);
      var st = ex.stream ? (ex.status ? " → closed after " + (ex.ms / 1000).toFixed(1) + " s" : " → 200 · live updates, open while this page is") :
        ex.status ? " → " + ex.status + " · " + ex.ms.toFixed(1) + " ms" : " (being answered)";
      sum.appendChild(el("span", "st", st));
      det.appendChild(sum);
      var open = ex.stream ? !ex.status : shown++ < 4;
      if (chosen.hasOwnProperty(ex.id)) open = chosen[ex.id];
      det.open = open;
      (function (id, d) {
        d.addEventListener("toggle", function () { chosen[id] = d.open; });
      })(ex.id, det);
      (ex.lines || []).forEach(function (l) {
        var d = el("div", "ln " + (l.dir === "#" ? "meta" : l.dir));
        d.appendChild(document.createTextNode(l.dir === "#" ? "# " + l.text : l.dir + ": " + l.text));
        (l.notes || []).forEach(function (n) {
          if (!n.summary) return;
          d.appendChild(el("span", "note " + (n.severity || ""), "note: " + n.summary + (n.ref ? " (" + n.ref + ")" : "")));
        });
        det.appendChild(d);
      });
      if (!ex.lines || !ex.lines.length) det.appendChild(el("div", "ln meta", "(no IMAP or SMTP: the bridge answered from what it already had)"));
      if (ex.dropped) det.appendChild(el("div", "ln meta", "… " + ex.dropped + " more lines"));
      li.appendChild(det);
      frag.appendChild(li);
    }
    pane.textContent = "";
    pane.appendChild(frag);
  }

  // Live updates: the bridge holds an IMAP IDLE for the folder shown and
  // sends "mail" when the server announces a change; "bridge" when the
  // pane has new lines.
  var folder = body.dataset.folder;
  var list = document.getElementById("list");
  function reloadList() {
    fetch(location.href, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (!html) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      var known = {};
      document.querySelectorAll("#list tr[data-uid]").forEach(function (tr) { known[tr.dataset.uid] = true; });
      ["list", "folders"].forEach(function (id) {
        var now = document.getElementById(id), next = doc.getElementById(id);
        if (now && next) now.replaceWith(document.importNode(next, true));
      });
      document.querySelectorAll("#list tr[data-uid]").forEach(function (tr) {
        if (!known[tr.dataset.uid]) tr.classList.add("fresh");
      });
    });
  }
  if (body.dataset.user && window.EventSource) {
    var es = new EventSource("/events?folder=" + encodeURIComponent(folder || "INBOX"));
    es.addEventListener("mail", function () {
      if (document.getElementById("list")) reloadList();
    });
    es.addEventListener("bridge", function () {
      if (body.dataset.bridge === "on") refreshBridge();
    });
    es.addEventListener("logout", function () { es.close(); });
    // Leaving the page ends its stream (and the bridge's IDLE) at once, so
    // that the old page does not react to what the next request changes.
    window.addEventListener("beforeunload", function () { es.close(); });
  }
  if (body.dataset.user) refreshBridge();

  // Keyboard: j/k move between messages, / searches, b toggles the pane,
  // c composes (Enter opens the focused message, as any link).
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    var links = Array.prototype.slice.call(document.querySelectorAll("#list .subject a"));
    var i = links.indexOf(document.activeElement);
    if (e.key === "j" || e.key === "k") {
      if (!links.length) return;
      i = e.key === "j" ? Math.min(links.length - 1, i + 1) : Math.max(0, i - 1);
      links[i].focus();
      e.preventDefault();
    } else if (e.key === "/") {
      var q = document.getElementById("q");
      if (q) { q.focus(); e.preventDefault(); }
    } else if (e.key === "b") {
      flip();
    } else if (e.key === "c" && body.dataset.user) {
      location.href = "/compose";
    }
  });
})();
