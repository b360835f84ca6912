// Preloaded with `node --require` into servers that listen on every interface with no option
// to change it (server-everything's Streamable HTTP mode): a listen on a bare port is made a
// listen on 127.0.0.1, so that tests never open a port to the network.
"use strict";
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const bare = typeof args[0] === "number" || (typeof args[0] === "string" && /^\d+$/.test(args[0]));
  if (bare && typeof args[1] !== "string") {
    args.splice(1, 0, "127.0.0.1");
  }
  return listen.apply(this, args);
};
