import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';

/** Where the API document and its browsable UI are served (public, no token). */
export const DOCS_PATHS = {
  ui: '/docs',
  json: '/docs-json',
  yaml: '/docs-yaml',
  legacyJson: '/docs/openapi.json',
} as const;

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Seckill API</title>
    <link rel="stylesheet" href="${DOCS_PATHS.ui}/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_PATHS.ui}/swagger-ui-bundle.js"></script>
    <script src="${DOCS_PATHS.ui}/swagger-ui-standalone-preset.js"></script>
    <script src="${DOCS_PATHS.ui}/swagger-initializer.js"></script>
  </body>
</html>
`;

const INITIALIZER = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(DOCS_PATHS.json)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
};
`;

/**
 * Serves the OpenAPI document (`/docs-json`, `/docs-yaml`, and `/docs/openapi.json` as before) and Swagger UI at
 * `/docs` from the `swagger-ui-dist` package, read once at start-up: @nestjs/swagger's own UI needs
 * @fastify/static, whose current major wants Node 22, and these are four static files.
 */
export function serveApiDocs(fastify: FastifyInstance, document: OpenAPIObject): void {
  const root = dirname(require.resolve('swagger-ui-dist/package.json'));
  const assets = new Map(
    Object.entries(ASSETS).map(([file, type]) => [file, { body: readFileSync(join(root, file)), type }]),
  );
  const json = JSON.stringify(document);
  for (const path of [DOCS_PATHS.json, DOCS_PATHS.legacyJson]) {
    fastify.get(path, (_request, reply) => reply.type('application/json; charset=utf-8').send(json));
  }
  // As @nestjs/swagger's setup served it before.
  const yaml = stringify(document);
  fastify.get(DOCS_PATHS.yaml, (_request, reply) => reply.type('text/yaml; charset=utf-8').send(yaml));
  fastify.get(DOCS_PATHS.ui, (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  fastify.get(`${DOCS_PATHS.ui}/swagger-initializer.js`, (_request, reply) =>
    reply.type('application/javascript; charset=utf-8').send(INITIALIZER),
  );
  fastify.get<{ Params: { file: string } }>(`${DOCS_PATHS.ui}/:file`, (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset) {
      return reply.status(404).send({ code: 'NOT_FOUND', message: `No ${request.url}` });
    }
    return reply.header('cache-control', 'public, max-age=86400').type(asset.type).send(asset.body);
  });
}
