/* Dosewise's service worker, served at /sw.js (web/routes/install.py fills in the version and
   the list of files kept for offline use).

   - Keeps the stylesheet, script, icons and the offline page (one cache per version).
   - Today (/patients/{id}/today) is fetched from the network first; each one loaded is kept
     (the last few), and offline the last one loaded is shown read-only: a banner says when it
     was loaded and every form control is disabled. "/" (the app's start page) offline shows the
     Today loaded last. No other page is ever kept (the app sends them with no-store); offline,
     they show the offline page.
   - The Today pages are deleted when someone signs out, signs in or signs up on this browser.
   - Web Push: shows the notification the server sends; "Taken" and "Snooze" go back to the
     server with the message's signed action token (no cookies), anything else opens the page.
*/
"use strict";

const VERSION = "__VERSION__";
const STATIC_CACHE = "dosewise-static-" + VERSION;
const TODAY_CACHE = "dosewise-today";
const OFFLINE_FILES = ["__OFFLINE_FILES__"];
const OFFLINE_PAGE = "/offline";
const KEEP_TODAYS = 5; // a clinician or caregiver may open several; keep only the latest few
const TODAY_PATH = /^\/patients\/\d+\/today$/;
const CACHED_AT = "x-dosewise-cached-at";
const SESSION_CHANGES = new Set(["/sign-out", "/sign-in", "/sign-up", "/api/session", "/account/delete"]);
const ACTIONS = new Set(["taken", "snooze"]);
const ACTION_URL = "/api/notification-actions";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(STATIC_CACHE)
      .then((cache) => cache.addAll(OFFLINE_FILES))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("dosewise-static-") && name !== STATIC_CACHE)
          .map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method !== "GET") {
    if (SESSION_CHANGES.has(url.pathname)) {
      // someone else may use this browser next: forget the Today pages, whatever the answer
      event.respondWith(forgetTodays().then(() => fetch(request)).catch(() => offlinePage()));
    } else if (request.mode === "navigate") {
      event.respondWith(fetch(request).catch(() => offlinePage()));
    }
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(navigate(request, url));
  } else if (OFFLINE_FILES.includes(url.pathname) && url.search === "") {
    event.respondWith(
      caches.match(request, {cacheName: STATIC_CACHE}).then((kept) => kept || fetch(request))
    );
  }
});

async function navigate(request, url) {
  const today = TODAY_PATH.test(url.pathname);
  try {
    const response = await fetch(request);
    if (today && response.ok && response.type === "basic" && isHtml(response)) {
      await keepToday(url.pathname, response.clone());
    }
    return response;
  } catch (offline) {
    let kept = null;
    if (today) {
      kept = await caches.match(url.pathname, {cacheName: TODAY_CACHE});
    } else if (url.pathname === "/") {
      kept = await latestToday();
    }
    return kept ? readOnlyToday(kept) : offlinePage();
  }
}

function isHtml(response) {
  return (response.headers.get("content-type") || "").startsWith("text/html");
}

async function keepToday(path, response) {
  const headers = new Headers(response.headers);
  headers.set(CACHED_AT, String(Date.now()));
  const body = await response.blob();
  const cache = await caches.open(TODAY_CACHE);
  await cache.put(path, new Response(body, {status: 200, statusText: "OK", headers}));
  const kept = await keptTodays(cache);
  await Promise.all(kept.slice(KEEP_TODAYS).map((entry) => cache.delete(entry.request)));
}

/* The kept Today pages, the latest first: [{request, response, at}]. */
async function keptTodays(cache) {
  const requests = await cache.keys();
  const entries = await Promise.all(requests.map(async (request) => {
    const response = await cache.match(request);
    return {request, response, at: Number(response && response.headers.get(CACHED_AT)) || 0};
  }));
  return entries.filter((entry) => entry.response).sort((a, b) => b.at - a.at);
}

async function latestToday() {
  if (!(await caches.has(TODAY_CACHE))) {
    return null;
  }
  const kept = await keptTodays(await caches.open(TODAY_CACHE));
  return kept.length ? kept[0].response : null;
}

function forgetTodays() {
  return caches.delete(TODAY_CACHE);
}

async function offlinePage() {
  const kept = await caches.match(OFFLINE_PAGE, {cacheName: STATIC_CACHE});
  if (kept) {
    return kept;
  }
  return new Response("You are offline. Dosewise needs a connection for this page.", {
    status: 503,
    headers: {"Content-Type": "text/plain; charset=utf-8"},
  });
}

/* The kept Today, read-only: the banner at the top (when it was loaded), body.offline for the
   stylesheet, every form control disabled (not the menu button), the last action's notice gone
   ("Dose recorded as taken" was news when it was loaded, not now). The headers are the page's
   own (its CSP). */
async function readOnlyToday(kept) {
  const html = await kept.text();
  const stamp = html.match(/data-loaded-at="([^"]*)"/);
  const loadedAt = stamp ? stamp[1] : formatTime(Number(kept.headers.get(CACHED_AT)) || Date.now());
  const banner =
    '<div class="offline-banner" role="status"><p><strong>Offline:</strong> this is Today as loaded at ' +
    escapeHtml(loadedAt) + "; you cannot record doses until you are back online.</p></div>";
  const page = html
    .replace(/<p class="notice"[^>]*>[\s\S]*?<\/p>/g, "")
    // every form control; a type="button" (the phone's menu) works offline too
    .replace(/<(button(?![^>]*type="button")|input|select|textarea)\b/g, "<$1 disabled")
    .replace(/<body([^>]*)>/, (tag, attributes) => "<body" + withOfflineClass(attributes) + ">" + banner);
  const headers = new Headers(kept.headers);
  headers.delete("content-length");
  headers.delete(CACHED_AT);
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set("cache-control", "no-store");
  return new Response(page, {status: 200, statusText: "OK", headers});
}

function withOfflineClass(attributes) {
  if (/\bclass="/.test(attributes)) {
    return attributes.replace(/\bclass="/, 'class="offline ');
  }
  return attributes + ' class="offline"';
}

function formatTime(milliseconds) {
  const when = new Date(milliseconds);
  const month = when.toLocaleString("en-GB", {month: "short"});
  const two = (number) => String(number).padStart(2, "0");
  return two(when.getHours()) + ":" + two(when.getMinutes()) + " on " + when.getDate() + " " + month;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
}

/* --- Web Push ------------------------------------------------------------------------------ */

self.addEventListener("push", (event) => {
  event.waitUntil(showMessage(readPush(event.data)));
});

function readPush(data) {
  if (!data) {
    return {};
  }
  try {
    const message = data.json();
    return message && typeof message === "object" ? message : {};
  } catch (notJson) {
    return {body: data.text()};
  }
}

/* message: {title, body, url, tag, level, actions: [{action: "taken"|"snooze", title}], action_token} */
function showMessage(message) {
  const actions = Array.isArray(message.actions) ? message.actions : [];
  const options = {
    body: String(message.body || ""),
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/badge-96.png",
    data: {url: String(message.url || "/"), action_token: message.action_token || null},
    actions: actions
      .filter((item) => item && ACTIONS.has(item.action))
      .map((item) => ({action: item.action, title: String(item.title || item.action)})),
    requireInteraction: message.level === "urgent" || message.level === "emergency",
  };
  if (message.tag) {
    options.tag = String(message.tag);
    options.renotify = true; // a follow-up with the same tag alerts again
  }
  return self.registration.showNotification(String(message.title || "Dosewise"), options);
}

self.addEventListener("notificationclick", (event) => {
  const notification = event.notification;
  notification.close();
  event.waitUntil(answerClick(event.action, notification.data || {}, notification.tag));
});

/* A click on the notification (action "") or one of its buttons. */
function answerClick(action, data, tag) {
  if (ACTIONS.has(action) && data.action_token) {
    return sendAction(action, data, tag);
  }
  return openPage(data.url || "/");
}

async function sendAction(action, data, tag) {
  let message;
  try {
    const response = await fetch(ACTION_URL, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({token: data.action_token, action}),
      credentials: "omit", // the token is the capability; no cookie goes with it
    });
    const answer = await response.json().catch(() => ({}));
    message = answer.message || answer.detail ||
      (response.ok ? "Done." : "Dosewise could not do that: open the app to record the dose.");
  } catch (offline) {
    message = "You are offline: nothing was recorded. Open Dosewise when you are back online.";
  }
  const options = {body: String(message), icon: "/static/icons/icon-192.png", data: {url: data.url || "/"}};
  if (tag) {
    options.tag = tag; // in place of the reminder it answers
  }
  return self.registration.showNotification("Dosewise", options);
}

async function openPage(address) {
  let target = new URL(address, self.location.origin);
  if (target.origin !== self.location.origin) {
    target = new URL("/", self.location.origin); // only ever this site
  }
  const windows = await self.clients.matchAll({type: "window", includeUncontrolled: true});
  const same = windows.find((client) => new URL(client.url).pathname === target.pathname);
  if (same) {
    return focus(same);
  }
  if (windows.length) {
    try {
      const client = await windows[0].navigate(target.href);
      if (client) {
        return focus(client);
      }
    } catch (notControlled) {
      // an uncontrolled window cannot be navigated from here: open a new one
    }
  }
  return self.clients.openWindow(target.href);
}

/* Focus is allowed only in answer to a click; the page is there either way. */
async function focus(client) {
  try {
    return await client.focus();
  } catch (notAllowed) {
    return client;
  }
}
