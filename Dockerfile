# syntax=docker/dockerfile:1
FROM node:20-bookworm-slim AS build
WORKDIR /app
# The lock library is an npm workspace the app depends on by name: npm ci needs its manifest to link it.
COPY package.json package-lock.json ./
COPY packages/lock/package.json ./packages/lock/
RUN npm ci --no-audit --no-fund
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY packages/lock/tsconfig.build.json ./packages/lock/
COPY packages/lock/src ./packages/lock/src
COPY src ./src
# npm run build builds the lock package (packages/lock/dist), then the app.
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
# node_modules/@seckill/lock is a link to packages/lock: its manifest and build come along.
COPY --from=build --chown=node:node /app/packages/lock/package.json ./packages/lock/
COPY --from=build --chown=node:node /app/packages/lock/dist ./packages/lock/dist
COPY --from=build --chown=node:node /app/dist ./dist
USER node
# 3000: the API (behind nginx or a Service); 9100: METRICS_PORT, internal (Prometheus), never proxied.
EXPOSE 3000 9100
CMD ["node", "dist/main.js"]
