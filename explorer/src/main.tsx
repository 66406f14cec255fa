import { render } from 'preact';
import { App } from './app';
import { fetchConfigJson, resolveRpcUrl } from './config';
import './style.css';

const root = document.getElementById('app')!;

void resolveRpcUrl(location.search, location.hostname, fetchConfigJson).then(({ url }) => {
  render(<App rpcUrl={url} />, root);
});
