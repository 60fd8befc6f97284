# syntax=docker/dockerfile:1
# duo-desk: build the TypeScript, then a runtime image with production dependencies only, run as a non-root user.
# `docker build .` gives the production image (the last stage); `docker build --target local .` an image of local
# mode (the Slack stand-in and the Duo simulator, for trying it out; never in production).

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/duo-sim/package.json packages/duo-sim/
COPY packages/slack-testbed/package.json packages/slack-testbed/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY commands ./commands
COPY views ./views
COPY migrations ./migrations
RUN npm run build

FROM build AS local
COPY packages ./packages
COPY bin ./bin
ENV DUO_DESK_DATA_DIR=/data HOST=0.0.0.0
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
CMD ["node", "bin/duo-desk.js", "start"]

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DUO_DESK_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/duo-sim/package.json packages/duo-sim/
COPY packages/slack-testbed/package.json packages/slack-testbed/
# Production dependencies only. npm links the workspace packages (the fakes) even then: links and folders go.
RUN npm ci --omit=dev --no-audit --no-fund \
    && rm -rf node_modules/@duo-desk packages \
    && npm cache clean --force \
    && mkdir -p /data && chown node:node /data
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY manifest.yml ./
USER node
EXPOSE 3000
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself is the main process (no npm, no shell): SIGTERM from `docker stop` reaches duo-desk.
CMD ["node", "bin/duo-desk.js", "start"]
