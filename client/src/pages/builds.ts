import '../styles/app.css';
import { localiseTimes } from '../lib/local-time.js';

localiseTimes();
