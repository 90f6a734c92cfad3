import type { FileInspectReport } from './inspect-file.js';

/** Human-readable report, one fact per line, problems last so they are what the eye lands on. */
export function formatInspectReport(report: FileInspectReport): string {
  const lines = [
    `module:     ${report.path}`,
    `status:     ${report.ok ? 'OK — Envoy would load this module' : 'INVALID — Envoy would refuse this module'}`,
    `host:       ${report.envoy ?? 'no Envoy release loads it'}`,
    `size:       ${report.size} bytes`,
    `sha256:     ${report.sha256 || '-'}`,
    `abi:        ${report.abi !== undefined ? `${report.abi} (${report.abiVersion})` : 'none detected'}`,
    `callbacks:  ${report.callbacks.join(', ') || '-'}`,
    `imports:    ${report.imports.join(', ') || '-'}`,
  ];
  for (const warning of report.warnings) lines.push(`warning:    ${warning}`);
  for (const problem of report.problems) lines.push(`problem:    ${problem}`);
  return `${lines.join('\n')}\n`;
}
