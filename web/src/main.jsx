// Entry point of the web UI bundle: mounts the app and its stylesheet.
import { render } from 'preact';
import { App } from './app.jsx';
import './app.css';

render(<App />, document.getElementById('app'));
