//! A device: the client bound to one `appId`.

use crate::calls::Call;
use crate::Client;
use std::sync::Arc;

/// One device of a logged-in WeChat account (GeWe's 设备ID, the `appId`), bound to a client.
/// Every call made from it sends its `appId`.
///
/// Cheap to clone (two `Arc`s), `Send` and `Sync`. Calls are reached by docs module:
///
/// ```no_run
/// # async fn run(client: gewe::Client) -> gewe::Result<()> {
/// let device = client.device("wx_app_id");
/// let sent = device.message().post_text("wxid_friend", "hi").await?;
/// let room = device
///     .group()
///     .join_room_using_qr_code("https://weixin.qq.com/g/AwYAAL...")
///     .await?;
/// # Ok(()) }
/// ```
///
/// An empty `appId` is refused when a call is awaited, with [`Error::InvalidRequest`], and
/// nothing is sent; a first login, which has no `appId` yet, is [`Client::login`].
///
/// [`Error::InvalidRequest`]: crate::Error::InvalidRequest
#[derive(Clone, Debug)]
pub struct Device {
    client: Client,
    app_id: Arc<str>,
}

impl Client {
    /// The device with this `appId` (设备ID), for calls that act on it.
    pub fn device(&self, app_id: impl Into<String>) -> Device {
        Device {
            client: self.clone(),
            app_id: Arc::from(app_id.into()),
        }
    }
}

impl Device {
    /// The device's `appId`.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The client the device's calls go through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A call of this device: refused at `.await` when its `appId` is empty.
    pub(crate) fn call<R>(&self, request: R) -> Call<R> {
        if self.app_id.trim().is_empty() {
            let reason = "the device's appId is empty: use the appId of a logged-in device \
                          (client.device(app_id)); a first login is client.login(..)"
                .to_owned();
            return Call::refused(self.client.clone(), request, reason);
        }
        Call::new(self.client.clone(), request)
    }
}
