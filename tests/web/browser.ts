// A real browser for the web tests: Debian's chromium (installed by .ci/run when missing), driven by
// playwright-core. BATON_CHROMIUM names another binary.
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  const path = env.BATON_CHROMIUM ?? "/usr/bin/chromium";
  if (!existsSync(path))
    throw new Error(
      `no chromium at ${path}: install it (apt-get install -y chromium, as .ci/run does) or set BATON_CHROMIUM to a Chromium binary`,
    );
  return path;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

/** Logs in through the login form, as a person does. */
export async function logInPage(browser: Browser, url: string, token: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
  const page = await context.newPage();
  await page.goto(`${url}/rate`);
  await page.waitForURL(/\/login$/);
  await page.fill('input[name="token"]', token);
  await page.click('button[type="submit"]');
  await page.waitForURL((u) => !u.pathname.endsWith("/login"));
  return page;
}

/** The response ids and texts of the task on the page, top to bottom. */
export async function shownResponses(page: Page): Promise<{ id: string; text: string; tied: boolean }[]> {
  return page.$$eval("#responses > li", (lis) =>
    lis.map((li) => ({
      id: li.getAttribute("data-id") ?? "",
      text: li.querySelector("pre")?.textContent ?? "",
      tied: li.getAttribute("data-tie") === "1",
    })),
  );
}

/**
 * Waits until the page shows that the rater has judged `n` prompts, and until the reloaded page's
 * script has run: the count is in the page before its key handlers are, and a key pressed in
 * between is lost.
 */
export async function judged(page: Page, n: number): Promise<void> {
  await page.locator("#progress", { hasText: `you: ${n} of` }).waitFor({ timeout: 15_000 });
  await page.waitForLoadState("load");
}
