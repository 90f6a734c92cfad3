import { describe, expect, it } from 'vitest';
import { runDemo } from '../../deployer/src/demo/run-demo.js';
import { repoRoot } from '../setup/paths.js';

describe('e2e: deployer demo', () => {
  it('runs the demo chain on embedded defaults and every request behaves as expected', async () => {
    let output = '';
    const result = await runDemo({ root: repoRoot, listen: '127.0.0.1:0', admin: '127.0.0.1:0', keep: false, out: (t) => { output += t; } });
    try {
      expect(result.ok, output).toBe(true);
      expect(output).toMatch(/^#\s+FILTER\s+REQUEST\s+STATUS\s+EXPECTED\s+WHAT THE CHAIN DID$/m);
      expect(output).toMatch(/example .* 200\s+200 ok\s+.*response \+x-wasmesh-example: hello/);
      expect(output).toContain('wasmesh_example_requests_total');
      // Every filter of the suite shows in the demo, in suite order.
      expect(result.filters).toEqual(['jwt-auth', 'rbac', 'header-router', 'metrics', 'example']);
      expect(output).toMatch(/header-router .*\(end-user jason\) .* 200\s+200 ok\s+.*x-wasmesh-route: app-v2/);
      expect(output).toMatch(/x-wasmesh-route-decision: rule=canary;destination=app-v[12];sticky=/);
      expect(output).toMatch(/^istio_requests_total\s+reporter\s+response_code/m);
      expect(output).toMatch(/^\s+destination\s+403\s+-\s+http\s+products\.shop\s+1$/m);
      // Configure-time lines of the per-worker VMs show once, prefixed with their plugin once.
      expect(output).toMatch(/^\s+\[info\] metrics: reporting as destination for workload "products" in "shop" .*\(each of 2 worker VMs\)$/m);
      expect(output).not.toMatch(/rbac: rbac:/);
      expect(output).toMatch(/demo: all \d+ requests behaved as expected/);
    } finally {
      await result.close();
    }
  });
});
