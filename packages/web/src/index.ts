// @baton/web: the ranking pages for people and the console for runs, one Hono app.

export type { WebApp, WebAppOptions } from "./app.ts";
export { createWebApp, DEFAULT_WEB_LIMITS } from "./app.ts";
export type { Role, WebUser } from "./auth/users.ts";
export { ROLES, UserFile, usersFileFor } from "./auth/users.ts";
export { agreement, levels } from "./campaigns/agreement.ts";
export type { CampaignSummary } from "./campaigns/book.ts";
export { CampaignBook, CampaignError } from "./campaigns/book.ts";
export type { Campaign, CampaignItem, Judgement, RankingRecord } from "./campaigns/campaign.ts";
export { checkRanking } from "./campaigns/ranking-check.ts";
export type { RunningWeb, StartWebOptions } from "./serve.ts";
export { DEFAULT_WEB_PORT, startWeb } from "./serve.ts";
