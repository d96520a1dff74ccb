import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { startLanguage } from "./store/ui";
import "./global.css";

const root = document.getElementById("root");
if (root) {
  // The saved language's strings first (English is a chunk of its own, #19): the first render
  // is already in the language staff chose. startLanguage never rejects.
  void startLanguage().then(() => {
    createRoot(root).render(
      <StrictMode>
        <App />
      </StrictMode>,
    );
  });
}
