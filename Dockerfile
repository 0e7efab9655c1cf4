# The relay's image: bundled in a build stage, run from production dependencies only,
# as a non-root user, with its data (the embedded PostgreSQL, when no DATABASE_URL is
# given) in the /data volume.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --ignore-scripts
COPY scripts scripts
COPY domain domain
COPY projections projections
COPY migrations migrations
COPY src src
RUN npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts scripts
# prepare finds no esbuild here and builds nothing: dist/ comes from the build stage.
RUN npm install --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production PUSHLINE_DATA_DIR=/data PORT=8787
WORKDIR /app
RUN groupadd --system pushline \
  && useradd --system --gid pushline --home-dir /app --no-create-home pushline \
  && mkdir /data && chown pushline:pushline /data
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY bin bin
COPY migrations migrations
COPY src/ui/page.html src/ui/page.html
USER pushline
VOLUME /data
EXPOSE 8787
# /health: the process answers and its database too.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8787)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM drains (PUSHLINE_DRAIN_TIMEOUT_MS, default 10 s); give it the time (compose: stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["/app/bin/pushline.mjs", "serve"]
