import type { Config } from "drizzle-kit";

export default {
  dialect: "sqlite",
  schema: "./server/store/schema.ts",
  out: "./server/store/migrations",
} satisfies Config;
