// Parser for `WWW-Authenticate` challenges (RFC 7235 section 4.1 / RFC 9110 section 11.6.1) as sent by
// registries: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
// Hand-written: the grammar is tiny and the npm parsers for it are unmaintained.

export interface AuthChallenge {
  readonly scheme: 'basic' | 'bearer';
  readonly params: Readonly<Record<string, string>>;
}

const PARAM = /\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;

/** Returns the first Basic or Bearer challenge; undefined when the header is absent or names another scheme. */
export function parseAuthChallenge(header: string | null): AuthChallenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\S+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  const rest = match[2]!;
  PARAM.lastIndex = 0;
  let param: RegExpExecArray | null;
  while (PARAM.lastIndex < rest.length && (param = PARAM.exec(rest)) !== null) {
    const value = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? '');
    params[param[1]!.toLowerCase()] = value;
  }
  return { scheme, params };
}
