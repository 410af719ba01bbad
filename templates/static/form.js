// The appeal form without page reloads: the cascade narrows through /api/v1 as soon as a
// select changes. Without JavaScript the «Показать» button does the same on the server.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  var form = document.getElementById("appeal-form");
  if (!form || !window.fetch) { return; }
  var $ = function (id) { return document.getElementById(id); };
  var region = $("region_id"), municipality = $("municipality_id"), locality = $("locality"),
      type = $("org_type"), organization = $("organization_id"), klass = $("class_id");

  function fill(select, items, first) {
    var keep = select.value;
    while (select.options.length) { select.remove(0); }
    if (first !== null) { select.add(new Option(first, "")); }
    items.forEach(function (it) { select.add(new Option(it.name, String(it.id))); });
    if (Array.prototype.some.call(select.options, function (o) { return o.value === keep; })) {
      select.value = keep;
    }
  }
  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); });
  }
  function organizations() {
    if (!municipality.value) { fill(organization, [], "— выберите —"); return Promise.resolve(); }
    var q = "?municipality_id=" + encodeURIComponent(municipality.value) +
      "&type=" + encodeURIComponent(type.value) +
      (locality.value ? "&locality=" + encodeURIComponent(locality.value) : "");
    return get("/api/v1/organizations" + q).then(function (list) {
      fill(organization, list, "— выберите —");
      return classes();
    });
  }
  function classes() {
    if (!organization.value) { fill(klass, [], "— сначала выберите организацию —"); return Promise.resolve(); }
    return get("/api/v1/organizations/" + encodeURIComponent(organization.value) + "/classes")
      .then(function (list) { fill(klass, list, "— выберите —"); });
  }
  function localities() {
    if (!municipality.value) { fill(locality, [], "Все"); return Promise.resolve(); }
    return get("/api/v1/municipalities/" + encodeURIComponent(municipality.value) + "/localities")
      .then(function (list) {
        fill(locality, list.map(function (l) { return { id: l, name: l }; }), "Все");
      });
  }
  function municipalities() {
    if (!region.value) { fill(municipality, [], "— выберите —"); return Promise.resolve(); }
    return get("/api/v1/regions/" + encodeURIComponent(region.value) + "/municipalities")
      .then(function (list) { fill(municipality, list, "— выберите —"); });
  }
  var showing = document.querySelectorAll("[data-show]");
  // Without the API the lists cannot narrow here: «Показать» does it on the server.
  function failed() {
    Array.prototype.forEach.call(showing, function (el) { el.hidden = false; });
  }
  region.addEventListener("change", function () {
    municipalities().then(localities).then(organizations).catch(failed);
  });
  municipality.addEventListener("change", function () {
    localities().then(organizations).catch(failed);
  });
  locality.addEventListener("change", function () { organizations().catch(failed); });
  type.addEventListener("change", function () { organizations().catch(failed); });
  organization.addEventListener("change", function () { classes().catch(failed); });
  // With the lists narrowing by themselves, «Показать» is not needed.
  Array.prototype.forEach.call(showing, function (el) { el.hidden = true; });
})();
