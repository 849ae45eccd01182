import { StepFailedError } from "../errors.js";

/**
 * One page of a list answer. Graph and Dataverse put the next page's URL in `@odata.nextLink` (Graph:
 * "paging" doc; Dataverse: "Page results", which also honours `Prefer: odata.maxpagesize`); the Power
 * Platform admin API puts it in `nextLink` (the Terraform provider for Power Platform follows that name).
 * A list is only complete once no next link is left.
 */
export interface ListPage<T> {
  value: T[];
  "@odata.nextLink"?: string;
  nextLink?: string;
}

/** Far more than any list this tool reads; a service that keeps answering pages past it is looping. */
const MAX_PAGES = 1000;

/**
 * Every item of a paged list: follows the next links from `first` through `fetchPage`. A next link must
 * stay on the origin of `firstUrl`, so a bearer token is never sent anywhere else.
 */
export async function readAllPages<T>(
  firstUrl: string,
  first: ListPage<T>,
  fetchPage: (nextLink: string) => Promise<ListPage<T>>,
): Promise<T[]> {
  const items = [...first.value];
  const origin = new URL(firstUrl).origin;
  const seen = new Set<string>();
  let page = first;
  for (let next = nextLinkOf(page); next !== undefined; next = nextLinkOf(page)) {
    const nextOrigin = new URL(next, firstUrl).origin;
    if (nextOrigin !== origin || seen.has(next) || seen.size >= MAX_PAGES) {
      throw new StepFailedError({
        code: "paging-failed",
        message: `The list at ${firstUrl.split("?")[0]} pointed to ${nextOrigin !== origin ? `another host (${nextOrigin})` : "a page it had already sent"} for its next page.`,
        hint: "Re-run with --verbose for the full exchange.",
      });
    }
    seen.add(next);
    page = await fetchPage(new URL(next, firstUrl).href);
    items.push(...page.value);
  }
  return items;
}

function nextLinkOf(page: ListPage<unknown>): string | undefined {
  return page["@odata.nextLink"] ?? page.nextLink ?? undefined;
}
