import { render } from 'preact';
import { App } from './app';
import { fetchConfigJson, resolveRpcUrl, rpcFromMeta } from './config';
import './style.css';

const root = document.getElementById('app')!;

void resolveRpcUrl(location.search, location.hostname, fetchConfigJson, rpcFromMeta(document)).then(({ url }) => {
  // Drop the static "Loading…" text: render() adds to what the element already holds.
  root.textContent = '';
  render(<App rpcUrl={url} />, root);
});
