// @baton/web: the ranking pages for people and the console for runs, one Hono app.
export { createWebApp, DEFAULT_WEB_LIMITS } from "./app.ts";
export type { WebApp, WebAppOptions } from "./app.ts";
export { startWeb, DEFAULT_WEB_PORT } from "./serve.ts";
export type { RunningWeb, StartWebOptions } from "./serve.ts";
export { UserFile, usersFileFor, ROLES } from "./auth/users.ts";
export type { Role, WebUser } from "./auth/users.ts";
export { CampaignBook, CampaignError } from "./campaigns/book.ts";
export type { CampaignSummary } from "./campaigns/book.ts";
export type { Campaign, CampaignItem, Judgement, RankingRecord } from "./campaigns/campaign.ts";
export { agreement, levels } from "./campaigns/agreement.ts";
export { checkRanking } from "./campaigns/ranking-check.ts";
