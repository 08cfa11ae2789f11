// Types of preact-htm.js for `tsc --noEmit --checkJs` (test/browser.sh); not served.
export const html: (strings: TemplateStringsArray, ...values: any[]) => any;
export function h(type: any, props?: any, ...children: any[]): any;
export function render(vnode: any, parent: Element): void;
export class Component<P = any, S = any> {
  constructor(props?: P);
  props: P;
  state: S;
  base?: Element;
  setState(update: any, callback?: () => void): void;
  forceUpdate(callback?: () => void): void;
  render(props?: P, state?: S): any;
}
export function useState<T>(init: T | (() => T)): [T, (v: T | ((prev: T) => T)) => void];
export function useEffect(fn: () => void | (() => void), deps?: any[]): void;
export function useRef<T>(init: T): { current: T };
