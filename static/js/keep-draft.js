/* Switching the language reloads the page: the choice is a POST (main.set_language) that
   redirects back to the same address. What the visitor had typed into the page's forms is
   kept for that one reload in sessionStorage (this tab only, removed when read) and put back
   into the same fields. Passwords, hidden fields (the CSRF token) and files are never kept.
   Without JavaScript the switch works as before and the typing is lost. */
(function () {
  "use strict";
  var KEY = "muster-draft";
  var SKIP = /^(password|hidden|file|submit|button|reset|image)$/;

  function here() {
    return location.pathname + location.search;
  }

  function forms() {
    return Array.prototype.filter.call(document.forms, function (form) {
      return !form.classList.contains("lang-switch");
    });
  }

  // [name, occurrence of that name in the form, element] for every field worth keeping.
  function fields(form) {
    var seen = {};
    var result = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP.test(el.type)) return;
      seen[el.name] = (seen[el.name] || 0) + 1;
      result.push([el.name, seen[el.name] - 1, el]);
    });
    return result;
  }

  function value(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked;
    if (el.type === "select-multiple") {
      return Array.prototype.filter
        .call(el.options, function (o) { return o.selected; })
        .map(function (o) { return o.value; });
    }
    return el.value;
  }

  function put(el, kept) {
    if (el.type === "checkbox" || el.type === "radio") el.checked = kept === true;
    else if (el.type === "select-multiple") {
      Array.prototype.forEach.call(el.options, function (o) {
        o.selected = kept.indexOf(o.value) >= 0;
      });
    } else el.value = kept;
  }

  function save() {
    var draft = forms().map(function (form) {
      return fields(form).map(function (f) { return [f[0], f[1], value(f[2])]; });
    });
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ at: here(), forms: draft }));
    } catch (err) { /* storage off or full: the switch still works */ }
  }

  function restore() {
    var draft;
    try {
      draft = JSON.parse(sessionStorage.getItem(KEY) || "null");
      sessionStorage.removeItem(KEY);
    } catch (err) { return; }
    if (!draft || draft.at !== here()) return;
    forms().forEach(function (form, i) {
      var kept = {};
      (draft.forms[i] || []).forEach(function (f) { kept[f[0] + "\u0000" + f[1]] = f[2]; });
      fields(form).forEach(function (f) {
        var key = f[0] + "\u0000" + f[1];
        if (Object.prototype.hasOwnProperty.call(kept, key)) put(f[2], kept[key]);
      });
    });
  }

  document.addEventListener("submit", function (event) {
    if (event.target.classList && event.target.classList.contains("lang-switch")) save();
  });
  restore();
})();
