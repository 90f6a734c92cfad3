import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sharedTestdata } from './paths.js';

/** One signature vector of a Wycheproof file (../shared/testdata/wycheproof, see its README). */
export interface WycheproofSignatureTest {
  readonly tcId: number;
  readonly comment: string;
  readonly flags: readonly string[];
  readonly msg: string;
  readonly sig: string;
  readonly result: 'valid' | 'invalid' | 'acceptable';
}

/** Reads ../shared/testdata/wycheproof/<file>; each suite types its own test groups. */
export function readWycheproof<Group>(file: string): { readonly testGroups: readonly Group[] } {
  return JSON.parse(readFileSync(path.join(sharedTestdata, 'wycheproof', file), 'utf8')) as { testGroups: Group[] };
}
