// Starts the vendored Swagger UI on the /docs page. A file of its own because the
// Content-Security-Policy allows no inline script. Loaded with `defer` after
// /vendor/swagger-ui/swagger-ui-bundle.js.
(function () {
  "use strict";

  function start() {
    var el = document.getElementById("swagger-ui");
    if (!el || el.dataset.started === "true") return;
    if (typeof window.SwaggerUIBundle !== "function") {
      el.textContent = "The API reference could not be loaded. The raw OpenAPI document is at /api/v1/openapi.json.";
      el.className += " swagger-ui-failed";
      return;
    }
    el.dataset.started = "true";
    var SwaggerUIBundle = window.SwaggerUIBundle;
    window.keyportSwaggerUI = SwaggerUIBundle({
      url: el.dataset.specUrl || "/api/v1/openapi.json",
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      deepLinking: true,
      tryItOutEnabled: false,
      persistAuthorization: false,
      validatorUrl: null,
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
