// The API reference page (/api/docs): Swagger UI over the served OpenAPI document.
// A file of its own because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  if (!el || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: el.getAttribute("data-url"),
    domNode: el,
    deepLinking: true,
    // Reading the reference needs no token; "Try it out" sends the token the reader enters
    // under "Authorize" (the browser session is not used by the API's token routes).
    tryItOutEnabled: false,
    displayOperationId: true,
    defaultModelsExpandDepth: 0,
    validatorUrl: null
  });
})();
