/**
 * Writes tools/stripe-standin/shapes/stripe-api.json from the installed stripe-node's type
 * declarations (see read-stripe-types.ts):
 *
 *   npm run gen:stripe-shapes            # write it
 *   npm run gen:stripe-shapes -- --check # exit 1 when the committed file differs (a stripe-node upgrade)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readStripeShapes, type StripeApiShapes } from "./read-stripe-types.ts";

export const SHAPES_FILE = fileURLToPath(new URL("./stripe-api.json", import.meta.url));

/** One line per endpoint, object and event: small diffs when stripe-node changes. */
export function formatShapes(shapes: StripeApiShapes): string {
  const block = (entries: Record<string, unknown>): string =>
    Object.entries(entries).map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(",\n");
  return [
    "{",
    `  "stripeNodeVersion": ${JSON.stringify(shapes.stripeNodeVersion)},`,
    `  "apiVersion": ${JSON.stringify(shapes.apiVersion)},`,
    `  "endpoints": {\n${block(shapes.endpoints)}\n  },`,
    `  "objects": {\n${block(shapes.objects)}\n  },`,
    `  "events": {\n${block(shapes.events)}\n  }`,
    "}",
    "",
  ].join("\n");
}

function main(): void {
  const text = formatShapes(readStripeShapes());
  if (process.argv.includes("--check")) {
    let committed = "";
    try {
      committed = readFileSync(SHAPES_FILE, "utf8");
    } catch {
      // missing counts as drift
    }
    if (committed !== text) {
      process.stderr.write("tools/stripe-standin/shapes/stripe-api.json differs from the installed stripe-node: run npm run gen:stripe-shapes\n");
      process.exit(1);
    }
    process.stdout.write("stripe-api.json matches the installed stripe-node\n");
    return;
  }
  writeFileSync(SHAPES_FILE, text);
  process.stdout.write(`wrote ${SHAPES_FILE}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
