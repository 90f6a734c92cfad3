import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { checkDirectionNotPassedAsContext, kubeconfigFiles, resolveNamespace } from '../../deployer/src/cli/options.js';
import { colorEnabled, dryRunMarker, palette } from '../../deployer/src/cli/output.js';
import { addWiringOptions, parseWiring, type WiringFlags } from '../../deployer/src/push/cli-options.js';
import { repoRoot } from '../setup/paths.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'cli');
const shop = path.join(fixtures, 'kubeconfig-shop.yaml');
const other = path.join(fixtures, 'kubeconfig-other.yaml');
const noHome = { HOME: path.join(fixtures, 'no-such-home') } as NodeJS.ProcessEnv;

describe('cli: -n/--namespace resolves as kubectl does', () => {
  it.each([
    ['the flag wins', { namespace: 'given', kubeconfig: shop }, noHome, 'given', '--namespace'],
    ['current-context namespace', { kubeconfig: shop }, noHome, 'shop', 'kubeconfig context shop-dev'],
    ['--context picks another context', { kubeconfig: shop, context: 'inbound' }, noHome, 'edge', 'kubeconfig context inbound'],
    ['old --kube-context still works', { kubeconfig: shop, kubeContext: 'inbound' }, noHome, 'edge', 'kubeconfig context inbound'],
    ['a context without namespace: default', { kubeconfig: shop, context: 'bare' }, noHome, 'default', 'default (kubeconfig context bare sets no namespace)'],
    ['KUBECONFIG list: the first current-context wins, contexts merge first-wins', {}, { KUBECONFIG: `${other}${path.delimiter}${shop}` }, 'payments', 'kubeconfig context other'],
    ['KUBECONFIG list with --context from the second file', { context: 'bare' }, { KUBECONFIG: `${other}${path.delimiter}${shop}` }, 'default', 'default (kubeconfig context bare sets no namespace)'],
  ] as const)('cli: namespace — %s', (_name, flags, environment, namespace, from) => {
    const notes: string[] = [];
    expect(resolveNamespace(flags, (l) => notes.push(l), environment as NodeJS.ProcessEnv)).toEqual({ namespace, from });
    expect(notes).toEqual([]);
  });

  it('cli: namespace — with no kubeconfig it says so plainly and uses "default"', () => {
    const notes: string[] = [];
    expect(resolveNamespace({}, (l) => notes.push(l), noHome).namespace).toBe('default');
    expect(notes).toEqual([`no kubeconfig found (${path.join(fixtures, 'no-such-home', '.kube', 'config')}): using namespace "default"; pass -n/--namespace to choose one`]);
  });

  it('cli: namespace — an unknown --context and a missing --kubeconfig are named', () => {
    expect(() => resolveNamespace({ kubeconfig: shop, context: 'prod' }, () => {}, noHome)).toThrow(`kube context "prod" not found in ${shop}: expected one of shop-dev, bare, inbound`);
    expect(() => resolveNamespace({ kubeconfig: '/nonexistent/kubeconfig' }, () => {}, noHome)).toThrow('kubeconfig "/nonexistent/kubeconfig" does not exist');
  });

  it('cli: kubeconfig files follow kubectl: --kubeconfig, else $KUBECONFIG, else ~/.kube/config', () => {
    expect(kubeconfigFiles('/a/b')).toEqual(['/a/b']);
    expect(kubeconfigFiles(undefined, { KUBECONFIG: `/x${path.delimiter}/y` })).toEqual(['/x', '/y']);
    expect(kubeconfigFiles(undefined, { HOME: '/home/me' })).toEqual(['/home/me/.kube/config']);
  });
});

describe('cli: --direction replaces the old --context inbound|outbound|gateway', () => {
  it('cli: --context inbound with no such kube context says what changed', () => {
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = other;
    try {
      expect(() => checkDirectionNotPassedAsContext({ context: 'outbound' })).toThrow('--context "outbound": --context is now the kubeconfig context (as in kubectl); for the traffic direction use --direction outbound');
      // A kube context that happens to be named like a direction is a kube context.
      expect(() => checkDirectionNotPassedAsContext({ context: 'inbound', kubeconfig: shop })).not.toThrow();
      expect(() => checkDirectionNotPassedAsContext({ context: 'shop-dev' })).not.toThrow();
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it.each([
    [['--direction', 'outbound', '-n', 'shop', '-l', 'app=reviews'], { context: 'outbound', namespace: 'shop', selector: { app: 'reviews' } }],
    [['--selector', 'app=cart,version=v1', '--namespace', 'x'], { context: 'inbound', namespace: 'x', selector: { app: 'cart', version: 'v1' } }],
    [['--kubeconfig', shop, '--context', 'inbound', '--direction', 'gateway'], { context: 'gateway', namespace: 'edge' }],
  ])('cli: push/render wiring flags %j', (args, expected) => {
    const command = addWiringOptions(new Command('render').exitOverride());
    command.parse(args, { from: 'user' });
    const wiring = parseWiring(command.opts<WiringFlags>(), () => {});
    expect(wiring).toMatchObject(expected);
  });

  it('cli: an unknown --direction is refused naming the choices', () => {
    const command = addWiringOptions(new Command('render').exitOverride().configureOutput({ writeErr: () => {} }));
    expect(() => command.parse(['--direction', 'sideways'], { from: 'user' })).toThrow("argument 'sideways' is invalid. Allowed choices are inbound, outbound, gateway");
  });
});

describe('cli: colour and dry-run marking', () => {
  it.each([
    ['a terminal', { isTTY: true }, {}, true],
    ['a pipe', { isTTY: false }, {}, false],
    ['NO_COLOR on a terminal', { isTTY: true }, { NO_COLOR: '1' }, false],
    ['NO_COLOR wins over FORCE_COLOR', { isTTY: false }, { NO_COLOR: 'yes', FORCE_COLOR: '1' }, false],
    ['empty NO_COLOR is unset (no-color.org)', { isTTY: true }, { NO_COLOR: '' }, true],
    ['FORCE_COLOR on a pipe', { isTTY: false }, { FORCE_COLOR: '1' }, true],
    ['FORCE_COLOR=0 on a terminal', { isTTY: true }, { FORCE_COLOR: '0' }, false],
    ['TERM=dumb', { isTTY: true }, { TERM: 'dumb' }, false],
  ] as const)('cli: colour on %s: %s', (_name, stream, environment, expected) => {
    expect(colorEnabled(stream, environment)).toBe(expected);
    expect(palette(stream, environment).red('x')).toBe(expected ? '\u001b[31mx\u001b[39m' : 'x');
  });

  it('cli: dry-run output is marked with its mode', () => {
    expect(dryRunMarker('client')).toBe(' (dry run: client)');
    expect(dryRunMarker('server')).toBe(' (dry run: server)');
    expect(dryRunMarker('none')).toBe('');
  });
});
