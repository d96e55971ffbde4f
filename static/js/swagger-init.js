// Starts Swagger UI from the settings the /api/docs page carries in data attributes: the
// pages' Content-Security-Policy allows no inline script.
window.addEventListener("load", function () {
  var holder = document.getElementById("swagger-ui");
  var config = JSON.parse(holder.dataset.config || "{}");
  config.dom_id = "#swagger-ui";
  config.url = holder.dataset.specUrl;
  window.ui = SwaggerUIBundle(config);
});
