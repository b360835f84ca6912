//! A chain of providers that answers as one [`Chat`]: the chosen provider first, then each
//! fallback with its own model and key, passing over a provider only when another could fix
//! its failure (SPEC §9). Each provider is built (its `api_key_cmd` run) only when reached,
//! and then kept in the agent's [`Clients`] for every later turn.
//!
//! Retries and fallback combine like this: a provider keeps its own retries for a busy server
//! (429, 5xx, timeouts, with backoff), then the next provider is asked; a server that is not
//! there at all (connection refused, unknown host) is passed over at once when another
//! provider follows, since waiting for it only delays the one that can answer.

use crate::chat::{Chat, ChatReply, ChatRequest};
use crate::config::Route;
use crate::error::{Error, Result};
use crate::provider::Provider;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

/// Builds the client of one route; `true` when it is the chain's last.
type MakeClient<'a> = Box<dyn Fn(&Route, bool) -> Result<Rc<dyn Chat>> + 'a>;

/// The provider clients of one agent, by provider name: each is built (its `api_key_cmd`
/// run, its connection pool made) the first time a turn reaches it, then kept, so a
/// long-lived agent runs a key command at most once and reuses its kept-alive connections.
#[derive(Default)]
pub struct Clients {
    built: RefCell<HashMap<String, Provider>>,
}

impl Clients {
    /// The client for `route`; `last` when no provider follows it in the chain.
    fn client(&self, route: &Route, last: bool) -> Result<Rc<dyn Chat>> {
        let name = &route.provider.name;
        let provider = match self.built.borrow().get(name) {
            Some(provider) => provider.clone(),
            None => Provider::new(&route.provider)?,
        };
        self.built
            .borrow_mut()
            .entry(name.clone())
            .or_insert_with(|| provider.clone());
        let provider = if last {
            provider
        } else {
            provider.without_unreachable_retries()
        };
        Ok(Rc::new(provider))
    }
}

/// The providers of one turn, in order.
pub struct Fallback<'a> {
    routes: Vec<Route>,
    /// Built as they are reached.
    built: RefCell<Vec<Option<Rc<dyn Chat>>>>,
    /// Where the next request starts: the provider that answered last, so a turn's later
    /// rounds do not knock on a dead server again.
    start: Cell<usize>,
    /// Makes a provider's client; tests hand in fakes.
    make: MakeClient<'a>,
}

impl<'a> Fallback<'a> {
    /// The chain over real providers, built from (and kept in) `clients`.
    pub fn new(routes: Vec<Route>, clients: &'a Clients) -> Fallback<'a> {
        Fallback::with_maker(
            routes,
            Box::new(move |route, last| clients.client(route, last)),
        )
    }

    fn with_maker(routes: Vec<Route>, make: MakeClient<'a>) -> Fallback<'a> {
        let built = RefCell::new(vec![None; routes.len()]);
        Fallback {
            routes,
            built,
            start: Cell::new(0),
            make,
        }
    }

    /// The provider (name and model) that answered the last request.
    pub fn answered(&self) -> &Route {
        &self.routes[self.start.get()]
    }

    fn client(&self, index: usize) -> Result<Rc<dyn Chat>> {
        if let Some(client) = &self.built.borrow()[index] {
            return Ok(client.clone());
        }
        let last = index + 1 == self.routes.len();
        let client = (self.make)(&self.routes[index], last)?;
        self.built.borrow_mut()[index] = Some(client.clone());
        Ok(client)
    }
}

impl Chat for Fallback<'_> {
    fn send(&self, request: &ChatRequest, on_text: &mut dyn FnMut(&str)) -> Result<ChatReply> {
        let mut failures = Vec::new();
        for index in self.start.get()..self.routes.len() {
            let route = &self.routes[index];
            let asked = ChatRequest {
                response_format: request.response_format,
                ..ChatRequest::new(
                    &route.model,
                    request.messages,
                    request.tools,
                    request.stream,
                )
            };
            let mut printed = false;
            let result = self.client(index).and_then(|client| {
                client.send(&asked, &mut |text| {
                    printed = true;
                    on_text(text);
                })
            });
            let error = match result {
                Ok(reply) => {
                    self.start.set(index);
                    return Ok(reply);
                }
                Err(error) => error,
            };
            let next = self.routes.get(index + 1);
            // Text already printed cannot be taken back: a second answer would follow it.
            match next {
                Some(next) if !printed && error.falls_over() => {
                    crate::notice::warning(&format!(
                        "provider `{}` failed ({error}); trying `{}`",
                        route.provider.name, next.provider.name
                    ));
                    failures.push(format!("`{}`: {error}", route.provider.name));
                }
                _ if failures.is_empty() => return Err(error),
                _ => {
                    failures.push(format!("`{}`: {error}", route.provider.name));
                    return Err(Error::ProvidersFailed(failures));
                }
            }
        }
        unreachable!("the last provider always returns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{Message, Role};
    use crate::config::ProviderConfig;

    /// A provider that fails with `status` (`Some(0)`: unreachable) or answers with its name.
    struct Scripted {
        name: String,
        status: Option<u16>,
        asked: Rc<RefCell<Vec<String>>>,
    }

    impl Chat for Scripted {
        fn send(&self, request: &ChatRequest, _: &mut dyn FnMut(&str)) -> Result<ChatReply> {
            self.asked
                .borrow_mut()
                .push(format!("{}:{}", self.name, request.model));
            match self.status {
                None => Ok(ChatReply {
                    content: Some(self.name.clone()),
                    ..ChatReply::default()
                }),
                Some(status) => Err(Error::Provider {
                    endpoint: self.name.clone(),
                    message: format!("failed with {status}"),
                    status: (status != 0).then_some(status),
                }),
            }
        }
    }

    fn chain(script: &[(&str, Option<u16>)]) -> (Fallback<'static>, Rc<RefCell<Vec<String>>>) {
        let asked = Rc::new(RefCell::new(Vec::new()));
        let routes = script
            .iter()
            .map(|(name, _)| Route {
                provider: ProviderConfig {
                    name: name.to_string(),
                    api_key: String::new(),
                    api_key_cmd: None,
                    key_source: String::new(),
                    base_url: String::new(),
                    model: String::new(),
                    timeout_secs: 1,
                    max_retries: 0,
                },
                model: format!("{name}-model"),
            })
            .collect();
        let statuses: Vec<(String, Option<u16>)> =
            script.iter().map(|(n, s)| (n.to_string(), *s)).collect();
        let log = Rc::clone(&asked);
        let fallback = Fallback::with_maker(
            routes,
            Box::new(move |route, _| {
                let status = statuses
                    .iter()
                    .find(|(name, _)| *name == route.provider.name)
                    .and_then(|(_, status)| *status);
                Ok(Rc::new(Scripted {
                    name: route.provider.name.clone(),
                    status,
                    asked: Rc::clone(&log),
                }) as Rc<dyn Chat>)
            }),
        );
        (fallback, asked)
    }

    fn ask(chat: &Fallback) -> Result<ChatReply> {
        let messages = [Message::new(Role::User, "hi")];
        chat.send(
            &ChatRequest::new("asked-model", &messages, &[], false),
            &mut |_| {},
        )
    }

    #[test]
    fn each_provider_is_asked_for_its_own_model_until_one_answers() {
        let (chain, asked) = chain(&[("local", Some(0)), ("busy", Some(429)), ("good", None)]);
        let reply = ask(&chain).unwrap();
        assert_eq!(reply.content.as_deref(), Some("good"));
        assert_eq!(
            *asked.borrow(),
            ["local:local-model", "busy:busy-model", "good:good-model"]
        );
        assert_eq!(chain.answered().provider.name, "good");
        // The next round starts where the answer came from.
        ask(&chain).unwrap();
        assert_eq!(asked.borrow().last().unwrap(), "good:good-model");
    }

    #[test]
    fn a_bad_request_does_not_fall_over() {
        for status in [400, 422] {
            let (chain, asked) = chain(&[("first", Some(status)), ("second", None)]);
            let error = ask(&chain).unwrap_err();
            assert!(error.to_string().contains(&format!("failed with {status}")));
            assert_eq!(asked.borrow().len(), 1);
        }
    }

    #[test]
    fn when_every_provider_fails_each_is_named() {
        let (chain, _) = chain(&[("a", Some(500)), ("b", Some(401)), ("c", Some(0))]);
        let error = ask(&chain).unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("every provider failed"), "{text}");
        for name in ["`a`", "`b`", "`c`"] {
            assert!(text.contains(name), "{text}");
        }
        assert_eq!(error.exit_code(), 4);
    }

    #[test]
    fn statuses_another_provider_could_fix_fall_over() {
        let falls = |status: Option<u16>| {
            Error::Provider {
                endpoint: String::new(),
                message: String::new(),
                status,
            }
            .falls_over()
        };
        for status in [
            None,
            Some(401),
            Some(403),
            Some(404),
            Some(408),
            Some(429),
            Some(500),
            Some(503),
        ] {
            assert!(falls(status), "{status:?}");
        }
        for status in [Some(400), Some(422), Some(413), Some(301)] {
            assert!(!falls(status), "{status:?}");
        }
    }
}
