import '../styles/app.css';
