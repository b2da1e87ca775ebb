// Swagger UI over Central's own document. validatorUrl: null stops it sending the document to
// validator.swagger.io for a badge: the reference must work on a closed network.
window.ui = window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  tryItOutEnabled: false,
});
