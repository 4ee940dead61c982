//! The two lab targets of the Huawei SMS listener: its IAM user (IAM is served below
//! [`lab::IAM_PREFIX`], a URL of its own), and its access key, which signs with the
//! lab's secret key.

use super::lab;
use super::target::{AKSK_SUFFIX, HuaweiAuth, HuaweiScope};
use crate::config::{PasswordSource, Target};
use crate::vendors::LabSetup;

/// The IAM-user target and the signing target of one listener.
pub(super) fn targets(user: Target, setup: &LabSetup<'_>) -> Vec<Target> {
    let scope = HuaweiScope {
        iam_url: Some(format!("{}{}", user.url, lab::IAM_PREFIX)),
        domain: Some(lab::LAB_DOMAIN.to_owned()),
        project_id: lab::LAB_PROJECT_ID.to_owned(),
        auth: HuaweiAuth::IamToken,
    };
    let signing = Target {
        name: format!("{}{AKSK_SUFFIX}", user.name),
        user: lab::LAB_ACCESS_KEY.to_owned(),
        password: PasswordSource::Inline(setup.secret_key.clone()),
        extras: HuaweiScope {
            iam_url: None,
            domain: None,
            auth: HuaweiAuth::AccessKey,
            ..scope.clone()
        }
        .into_extras(),
        ..user.clone()
    };
    vec![
        Target {
            extras: scope.into_extras(),
            ..user
        },
        signing,
    ]
}
