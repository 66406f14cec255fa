// Stylesheets imported for their side effect; Vite bundles them into assets/app.css.
declare module '*.css';
