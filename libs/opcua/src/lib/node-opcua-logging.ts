import { format } from 'node:util';
import { setWarningLogger } from 'node-opcua';

/**
 * node-opcua warnings that say nothing actionable about this project, matched on the text:
 * - W27: Node 20 refuses RSA PKCS#1 v1.5, which only the deprecated Basic128Rsa15 policy
 *   needs; pipac offers Basic256Sha256 and newer (OAEP/PSS), so nothing is affected.
 * - The LADS NodeSet2 (OPC 30500) gives some Identification properties (RevisionCounter …)
 *   two parents; node-opcua keeps the first, which is the one the specification means (it
 *   reports each in several warnings: the message, the node, the browse results).
 * - A client reading the optional OperationLimits of a server (namespace 0) that does not
 *   publish them: node-opcua then uses its defaults.
 */
const BENIGN = [
  /NODE-OPCUA-W27/,
  /security-revert=CVE-2023-46809/,
  /HasProperty/,
  /first one will be used as parent/,
  /More than one Aggregates reference have been found/,
  /^\s*object node id: ns=\d+;i=\d+ \d+:\w+$/,
  /^\s*browseResults:/,
  /^dataValue = [\s\S]*BadNodeIdUnknown[\s\S]*for\s+ns=0;i=\d+$/,
];

/**
 * Routes node-opcua's warnings to `sink` (standard error by default), one line per warning,
 * leaving out the benign ones listed above. Call once at start-up.
 */
export function routeNodeOpcuaWarnings(
  sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): void {
  setWarningLogger((_context?: unknown, ...args: unknown[]) => {
    // Without colours: node-opcua paints parts of its messages.
    // eslint-disable-next-line no-control-regex
    const line = format(...args).replace(/\u001b\[[0-9;]*m/g, '');
    if (BENIGN.some((pattern) => pattern.test(line))) return;
    sink(`node-opcua: ${line}`);
  });
}
