/* Dosewise in the browser (no inline script anywhere: the CSP is script-src 'self').

   Loaded in <head> without defer, so that html.js is set before the page is drawn (the phone
   menu starts collapsed, with no jump); everything else waits for the document.
   - the service worker (/sw.js, scope "/"): installable app, Today offline, Web Push;
   - the patient menu on a phone: the button opens and closes it (without this script the
     navigation is simply shown in full);
   - signing out forgets the Today pages kept for offline use (the service worker does too);
   - a page read from the offline cache reloads itself when the connection is back;
   - the notifications switch: <section id="push" data-vapid-key data-subscribe-url> with
     #push-on, #push-off and #push-status.
*/
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var TODAY_CACHE = "dosewise-today";
  var STATUS = {
    on: "Notifications are on for this browser",
    off: "Notifications are off for this browser",
    blocked: "Notifications are blocked in the browser settings",
    unsupported: "Notifications are not supported by this browser",
  };

  function start() {
    registerServiceWorker();
    setUpMenu();
    forgetTodaysOnSignOut();
    reloadWhenOnline();
    setUpPush(document.getElementById("push"));
  }

  function registerServiceWorker() {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js", {scope: "/"}).catch(function () {
        // no offline copy and no notifications; the pages work as before
      });
    }
  }

  function setUpMenu() {
    var nav = document.querySelector("nav.patient");
    var button = nav && nav.querySelector(".menu-toggle");
    if (!button) {
      return;
    }
    function show(open) {
      nav.classList.toggle("open", open);
      button.setAttribute("aria-expanded", String(open));
    }
    button.addEventListener("click", function () {
      show(!nav.classList.contains("open"));
    });
    nav.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("open")) {
        show(false);
        button.focus();
      }
    });
  }

  function forgetTodaysOnSignOut() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form instanceof HTMLFormElement && new URL(form.action).pathname === "/sign-out" && window.caches) {
        window.caches.delete(TODAY_CACHE);
      }
    });
  }

  function reloadWhenOnline() {
    window.addEventListener("online", function () {
      if (!document.body.classList.contains("offline")) {
        return;
      }
      // "online" is said too readily (a new network, no route yet): ask the server first
      fetch("/health", {cache: "no-store"}).then(function (response) {
        if (response.ok) {
          window.location.reload();
        }
      }, function () {
        // still offline: the page stays as it is
      });
    });
  }

  /* --- the notifications switch ----------------------------------------------------------- */

  function setUpPush(section) {
    if (!section) {
      return;
    }
    var status = document.getElementById("push-status");
    var on = document.getElementById("push-on");
    var off = document.getElementById("push-off");
    if (status && !status.hasAttribute("role")) {
      status.setAttribute("role", "status");
    }
    function say(text, state) {
      if (status) {
        status.textContent = text;
      }
      section.setAttribute("data-state", state);
      if (on) {
        on.disabled = state === "on" || state === "unsupported" || state === "blocked";
      }
      if (off) {
        off.disabled = state !== "on";
      }
    }
    if (!("serviceWorker" in navigator && "PushManager" in window && "Notification" in window)) {
      say(STATUS.unsupported, "unsupported");
      return;
    }
    if (Notification.permission === "denied") {
      say(STATUS.blocked, "blocked");
      return;
    }
    subscription().then(function (current) {
      say(current ? STATUS.on : STATUS.off, current ? "on" : "off");
    }, function () {
      say(STATUS.unsupported, "unsupported");
    });
    if (on) {
      on.addEventListener("click", function () {
        turnOn(section).then(function (state) {
          say(STATUS[state], state);
        }, function (error) {
          say("Notifications could not be turned on: " + reason(error), "off");
        });
      });
    }
    if (off) {
      off.addEventListener("click", function () {
        turnOff(section).then(function () {
          say(STATUS.off, "off");
        }, function (error) {
          say("Notifications could not be turned off: " + reason(error), "on");
        });
      });
    }
  }

  function subscription() {
    return navigator.serviceWorker.ready.then(function (registration) {
      return registration.pushManager.getSubscription();
    });
  }

  function turnOn(section) {
    return Notification.requestPermission().then(function (permission) {
      if (permission === "denied") {
        return "blocked";
      }
      if (permission !== "granted") {
        return "off"; // the question was dismissed: nothing changes
      }
      return navigator.serviceWorker.ready.then(function (registration) {
        return registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: bytesOfBase64Url(section.getAttribute("data-vapid-key") || ""),
        });
      }).then(function (subscribed) {
        return send(section, "POST", subscribed.toJSON()).catch(function (error) {
          // the server does not know it: do not leave a subscription nobody sends to
          return subscribed.unsubscribe().then(function () { throw error; });
        });
      }).then(function () {
        return "on";
      });
    });
  }

  function turnOff(section) {
    return subscription().then(function (current) {
      if (!current) {
        return null;
      }
      return send(section, "DELETE", {endpoint: current.endpoint}).then(function () {
        return current.unsubscribe();
      });
    });
  }

  function send(section, method, body) {
    var token = document.querySelector('meta[name="csrf-token"]');
    return fetch(section.getAttribute("data-subscribe-url"), {
      method: method,
      headers: {
        "Content-Type": "application/json",
        "X-CSRF-Token": token ? token.getAttribute("content") : "",
      },
      body: JSON.stringify(body),
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          var detail = typeof answer.detail === "string" ? answer.detail : "";
          throw new Error(detail || "the server answered " + response.status);
        });
      }
      return response;
    });
  }

  function bytesOfBase64Url(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "=".repeat((4 - (base64.length % 4)) % 4);
    var raw = window.atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function reason(error) {
    return error && error.message ? error.message : String(error);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
