import type { HeaderList } from '../host/api.js';
import type { HeaderMatcher, PathMatch, RouteConfig, StringMatch } from './config/types.js';

/**
 * First-match route table, as Envoy's envoy.config.route.v3.VirtualHost.routes: path matchers
 * compare the :path without its query string, header matchers all have to hold
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/route/v3/route_components.proto#config-route-v3-routematch).
 */
export class RouteTable {
  constructor(readonly routes: readonly RouteConfig[]) {}

  match(headers: HeaderList): RouteConfig | undefined {
    const path = pathWithoutQuery(headerValue(headers, ':path') ?? '/');
    return this.routes.find((route) => matchesPath(route.path, path) && route.headers.every((m) => matchesHeader(m, headers)));
  }
}

function pathWithoutQuery(path: string): string {
  const cut = path.search(/[?#]/);
  return cut === -1 ? path : path.slice(0, cut);
}

function matchesPath(match: PathMatch, path: string): boolean {
  switch (match.kind) {
    case 'prefix':
      return path.startsWith(match.value);
    case 'path':
      return path === match.value;
    case 'regex':
      return match.value.fullMatch(path);
  }
}

/**
 * Envoy joins repeated headers with "," before matching (HeaderUtility::getAllOfHeaderAsString);
 * an absent header fails every matcher, and invert_match flips the result, so an inverted
 * matcher on an absent header matches.
 */
function matchesHeader(matcher: HeaderMatcher, headers: HeaderList): boolean {
  const values = headers.filter(([name]) => name === matcher.name).map(([, value]) => value);
  const present = values.length > 0;
  const matched = present && (matcher.match === undefined || matchesString(matcher.match, values.join(',')));
  return matched !== matcher.invert;
}

/** StringMatcher; safe_regex is a full match on the RE2 engine (no backtracking on request data). */
function matchesString(match: StringMatch, value: string): boolean {
  if (match.kind === 'regex') return match.value.fullMatch(value);
  // ignore_case: Envoy lower-cases both sides (ASCII) before comparing.
  const subject = match.ignoreCase ? asciiLower(value) : value;
  const wanted = match.ignoreCase ? asciiLower(match.value) : match.value;
  switch (match.kind) {
    case 'exact':
      return subject === wanted;
    case 'prefix':
      return subject.startsWith(wanted);
    case 'suffix':
      return subject.endsWith(wanted);
    case 'contains':
      return subject.includes(wanted);
  }
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

export function headerValue(headers: HeaderList, name: string): string | undefined {
  for (const [key, value] of headers) if (key === name) return value;
  return undefined;
}
