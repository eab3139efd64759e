/**
 * Static assets, all served by this server: the dashboard's own CSS and
 * scripts, and uPlot straight from its npm package, so the browser never
 * makes a request anywhere else.
 */
import { Hono } from "hono";

interface AssetSource {
  url: string;
  type: string;
}

const own = (file: string) => new URL(`./static/${file}`, import.meta.url).href;
const JS = "text/javascript; charset=utf-8";

/** Every asset by the name it has under /assets/. */
export const ASSETS: Record<string, AssetSource> = {
  "app.css": { url: own("app.css"), type: "text/css; charset=utf-8" },
  "favicon.svg": { url: own("favicon.svg"), type: "image/svg+xml" },
  "live.js": { url: own("live.js"), type: JS },
  "guests.js": { url: own("guests.js"), type: JS },
  "charts.js": { url: own("charts.js"), type: JS },
  "format.js": { url: own("format.js"), type: JS },
  "dom.js": { url: own("dom.js"), type: JS },
  "uplot.js": {
    url: import.meta.resolve("uplot/dist/uPlot.iife.min.js"),
    type: JS,
  },
  "uplot.css": {
    url: import.meta.resolve("uplot/dist/uPlot.min.css"),
    type: "text/css; charset=utf-8",
  },
};

interface LoadedAsset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

async function load(source: AssetSource): Promise<LoadedAsset> {
  const body = await Deno.readFile(new URL(source.url));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
  const etag = `"${
    [...digest.slice(0, 12)].map((b) => b.toString(16).padStart(2, "0")).join(
      "",
    )
  }"`;
  return { body, type: source.type, etag };
}

/**
 * Serves `/assets/:name`. Each file is read once, on first request, and
 * kept by this app; browsers revalidate with its ETag.
 */
export function createAssets(): Hono {
  const cache = new Map<string, Promise<LoadedAsset>>();
  const app = new Hono();
  app.get("/assets/:name", async (c) => {
    const name = c.req.param("name");
    const source = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!source) return c.notFound();
    let pending = cache.get(name);
    if (!pending) {
      pending = load(source);
      cache.set(name, pending);
    }
    const asset = await pending;
    c.header("ETag", asset.etag);
    c.header("Cache-Control", "no-cache");
    if (c.req.header("if-none-match") === asset.etag) return c.body(null, 304);
    c.header("Content-Type", asset.type);
    return c.body(asset.body);
  });
  return app;
}
