// Keyboard for the review desk: j/k move, a accept, s source error, c correct (type, Enter), n skip, p previous.
(function () {
  "use strict";
  const rows = Array.from(document.querySelectorAll("tr.cell, tr.item"));
  let at = 0;
  function select(i) {
    if (!rows.length) return;
    at = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r, k) => r.classList.toggle("selected", k === at));
    rows[at].scrollIntoView({ block: "nearest" });
  }
  function press(kind) {
    const b = rows[at] && rows[at].querySelector('button[value="' + kind + '"]');
    if (b) b.click();
  }
  function go(id) {
    const a = document.getElementById(id);
    if (a) window.location.href = a.getAttribute("href");
  }
  document.addEventListener("keydown", function (e) {
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
    if (typing) {
      if (e.key === "Escape") e.target.blur();
      if (e.key === "Enter" && e.target.classList.contains("value")) {
        e.preventDefault();
        press("misread");
      }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    switch (e.key) {
      case "j": case "ArrowDown": select(at + 1); break;
      case "k": case "ArrowUp": select(at - 1); break;
      case "a": press("confirmed"); break;
      case "s": press("source_error"); break;
      case "c": {
        const v = rows[at] && rows[at].querySelector("input.value");
        if (v) { e.preventDefault(); v.focus(); }
        break;
      }
      case "n": go("next"); break;
      case "p": go("prev"); break;
      case "q": window.location.href = "/"; break;
      case "Enter": {
        const href = rows[at] && rows[at].dataset.href;
        if (href) window.location.href = href;
        break;
      }
      default: return;
    }
  });
  select(0);
})();
