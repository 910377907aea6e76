import '../styles/app.css';
import { localiseTimes } from '../lib/local-time.js';
import { countDownRows } from '../lib/row-countdowns.js';

localiseTimes();
countDownRows();
