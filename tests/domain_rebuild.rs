mod common;

use care_ledger::domain::statement::*;
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Internal(u8, u16),
    Invoice(u8, u32),
    CorrectInternal(u8, u16),
    Withdraw(u8),
    Receipt(u8, u32),
    Attain(u8, u8),
    Submit,
    Reopen,
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..4, 0u16..2000).prop_map(|(i, h)| Step::Internal(i, h)),
        (0u8..4, 0u32..5_000_000).prop_map(|(i, c)| Step::Invoice(i, c)),
        (0u8..4, 0u16..2000).prop_map(|(i, h)| Step::CorrectInternal(i, h)),
        (0u8..8).prop_map(Step::Withdraw),
        (0u8..2, 0u32..1_000_000).prop_map(|(i, c)| Step::Receipt(i, c)),
        (0u8..9, 0u8..3).prop_map(|(o, s)| Step::Attain(o, s)),
        Just(Step::Submit),
        Just(Step::Reopen),
    ]
}

fn cents(c: u32) -> String {
    format!("{},{:02}", c / 100, c % 100)
}

fn command(step: &Step) -> (Role, StatementCommand) {
    let cat = d1bis();
    match step {
        Step::Internal(i, h) | Step::CorrectInternal(i, h) => {
            let mut input = seed_employee(&format!("INT-{i}"));
            input.hours_on_action = h.to_string();
            let cmd = if matches!(step, Step::Internal(..)) {
                StatementCommand::DeclareInternalCost(input)
            } else {
                StatementCommand::CorrectInternalCost(input)
            };
            (Role::Etablissement, cmd)
        }
        Step::Invoice(i, c) => (
            Role::Etablissement,
            StatementCommand::DeclareExternalCost(invoice(
                &format!("EXT-{i}"),
                "Fournisseur",
                &format!("F{i}"),
                &cents(*c),
            )),
        ),
        Step::Withdraw(i) => {
            let id = if i % 2 == 0 {
                format!("INT-{}", i / 2)
            } else {
                format!("EXT-{}", i / 2)
            };
            (
                Role::Etablissement,
                StatementCommand::WithdrawLine {
                    line_id: id,
                    reason: "erreur".into(),
                },
            )
        }
        Step::Receipt(i, c) => (
            Role::Etablissement,
            StatementCommand::DeclareReceipt(ReceiptInput {
                line_id: format!("REC-{i}"),
                group: "D1.O1".into(),
                provenance: "Région".into(),
                amount: cents(*c),
            }),
        ),
        Step::Attain(o, s) => {
            let code = cat.objectives[*o as usize].code.to_string();
            let status = ["unknown", "attained", "not_attained"][*s as usize];
            (Role::Controleur, attainment(&code, status, ""))
        }
        Step::Submit => (Role::Etablissement, StatementCommand::Submit),
        Step::Reopen => (
            Role::Controleur,
            StatementCommand::Reopen {
                reason: "contrôle".into(),
            },
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn folding_all_events_gives_the_state_built_incrementally(steps in prop::collection::vec(arb_step(), 0..40), ght_candidate in any::<bool>()) {
        let cat = d1bis();
        let cand = if ght_candidate { ght() } else { private() };
        let mut incremental = Statement::new();
        let mut log: Vec<StatementEvent> = Vec::new();
        let open = decide(&incremental, &ctx(&cat, &cand, Role::Etablissement), StatementCommand::OpenStatement).unwrap();
        for e in &open { incremental.apply(e); }
        log.extend(open);
        for step in &steps {
            let (role, cmd) = command(step);
            if let Ok(events) = decide(&incremental, &ctx(&cat, &cand, role), cmd) {
                for e in &events { incremental.apply(e); }
                log.extend(events);
            }
        }
        prop_assert_eq!(&fold(&log), &incremental);
        // Through storage: JSON out and back gives the same state.
        let stored: Vec<String> = log.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
        let read: Vec<StatementEvent> = stored.iter().map(|j| serde_json::from_str(j).unwrap()).collect();
        prop_assert_eq!(&fold(&read), &incremental);
        prop_assert_eq!(incremental.version, log.len() as u64);
        // The figures computed from the rebuilt state are the same too.
        let a = compute_subsidy(&fold(&read), &cat, &cand);
        let b = compute_subsidy(&incremental, &cat, &cand);
        prop_assert_eq!(a, b);
    }
}
