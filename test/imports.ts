/**
 * The import edges of lib/, read with the TypeScript parser (comments and strings cannot fool it), for
 * test/layers.test.ts and for counting upward edges in another checkout:
 * `npx tsx -e "console.log(require('./test/imports').libEdges('/path/to/checkout').length)"`.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import type { ImportEdge } from '../lib/util/layers';

const ROOT = path.resolve(__dirname, '..');

/** Every module specifier of one file, read with the TypeScript parser (comments and strings cannot fool it). */
export function edgesOf(file: string, source: string): ImportEdge[] {
  const tree = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
  const edges: ImportEdge[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      edges.push({ file, specifier: node.moduleSpecifier.text, lazy: false });
    } else if (ts.isImportTypeNode(node)) {
      // `typeof import('…')` names a type: an edge, not a load.
      const literal = node.argument;
      if (ts.isLiteralTypeNode(literal) && ts.isStringLiteral(literal.literal))
        edges.push({ file, specifier: literal.literal.text, lazy: false });
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const [argument] = node.arguments;
      if ((isRequire || isImport) && argument && ts.isStringLiteralLike(argument))
        edges.push({ file, specifier: argument.text, lazy: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(tree);
  return edges;
}

function libFiles(dir: string): string[] {
  const root = path.dirname(dir);
  const walk = (folder: string): string[] =>
    fs.readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) return walk(full);
      return entry.name.endsWith('.ts') ? [path.relative(root, full).split(path.sep).join('/')] : [];
    });
  return walk(dir);
}

let edgesRead: ImportEdge[] | null = null;
/** The edges of every lib file (read once: parsing the whole library takes seconds). */
export function libEdges(root = ROOT): ImportEdge[] {
  const read = () =>
    libFiles(path.join(root, 'lib')).flatMap((file) => edgesOf(file, fs.readFileSync(path.join(root, file), 'utf8')));
  if (root !== ROOT) return read();
  return (edgesRead ??= read());
}
