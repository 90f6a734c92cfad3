import { readFileSync } from 'node:fs';

/**
 * The admin bearer token: `--token-file F` (first line, trimmed) or DEPLOYER_CONTROL_PLANE_TOKEN.
 * Shared by the server and its clients (push/status --control-plane).
 */
export function resolveToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(tokenFile, 'utf8');
    } catch (error) {
      throw new Error(`--token-file ${tokenFile}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const token = text.split(/\r?\n/)[0]!.trim();
    if (token === '') throw new Error(`--token-file ${tokenFile}: the file is empty; expected the token on its first line`);
    return token;
  }
  const fromEnv = env.DEPLOYER_CONTROL_PLANE_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  throw new Error('no admin token: expected --token-file <file> or DEPLOYER_CONTROL_PLANE_TOKEN');
}
