/* Swagger UI plugins for the API docs page (templates/api/swagger_ui.html): what its options
   cannot fix for WCAG 2.1 AA. SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"] adds them to the
   presets; this file is loaded before Swagger UI starts. */
"use strict";

// Wrap a component's form control in a <label> carrying `text`, so a screen reader names it
// (WCAG 4.1.2); the text is heard, not seen, unless the component already shows its own.
const labelled = (text) => (Original, system) => (props) => {
  const h = system.React.createElement;
  return h(
    "label",
    { className: "swagger-control-label" },
    props.showLabels ? null : h("span", { className: "visually-hidden" }, text),
    h(Original, props),
  );
};

// A button whose aria-label leaves out its visible text (the Authorize dialog's "Authorize" is
// named "Apply credentials") is announced in words that are not the ones shown, and cannot be
// spoken to by what it says (WCAG 2.5.3): its name starts with its text instead.
const nameStartsWithText = (Original, system) => (props) => {
  const h = system.React.createElement;
  const text = typeof props.children === "string" ? props.children : null;
  const label = props["aria-label"];
  if (!text || !label || label.toLowerCase().includes(text.toLowerCase())) {
    return h(Original, props);
  }
  return h(Original, { ...props, "aria-label": `${text}: ${label.toLowerCase()}` });
};

// The dialog's close button holds only an icon: give it a name.
const namedCloseIcon = (Original, system) => (props) => {
  const h = system.React.createElement;
  return h(
    system.React.Fragment,
    null,
    h(Original, props),
    h("span", { className: "visually-hidden" }, "Close"),
  );
};

// Swagger UI gives neither the menu of request and response examples nor the request body's
// editor ("Try it out") a label.
const labelledControls = () => ({
  wrapComponents: {
    ExamplesSelect: labelled("Example"),
    RequestBodyEditor: labelled("Request body"),
    Button: nameStartsWithText,
    CloseIcon: namedCloseIcon,
  },
});

const accessibleSwaggerUi = [labelledControls];
