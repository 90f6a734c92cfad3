import { describe, expect, it } from 'vitest';
import { filterNameFromPath } from '../../deployer/src/push/push.js';
import { checkRenderOptions } from '../../deployer/src/render/options.js';

describe('push: filter name from the module path', () => {
  it.each([
    ['build/filters/rbac.wasm', 'rbac'],
    ['build/filters/rbac.portable.wasm', 'rbac'],
    ['build/filters/jwt-auth.debug.wasm', 'jwt-auth'],
    ['/abs/path/header-router.portable.wasm', 'header-router'],
  ])('push: %s maps to filter %s', (file, name) => {
    expect(filterNameFromPath(file)).toBe(name);
  });

  it('push: the name of a portable build passes the render name check (was: filter name "rbac.portable")', () => {
    const name = filterNameFromPath('build/filters/rbac.portable.wasm');
    expect(() => checkRenderOptions({ filter: name } as Parameters<typeof checkRenderOptions>[0])).not.toThrow(/filter name/);
  });
});
